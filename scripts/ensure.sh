# Shell functions that make sure what VMKit needs is on this machine.
# Sourced by ./vmkit and .ci/run. Each function either makes the thing
# available or stops with the exact command a person has to run.
# POSIX sh: a fresh machine may not have bash.

DENO_VERSION=2.9.6

say() { printf 'vmkit: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Runs a command as root: directly when we are root, through sudo when it
# works without a password prompt; otherwise returns 1 so the caller can print
# the command for the user instead.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

# Installs Debian/Ubuntu packages, or stops with the command that would.
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing: $*. This machine has no apt-get; install the equivalent packages with your package manager (see DEVELOPERS.md)."
  fi
  say "installing $*"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null 2>&1 || true
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; then
      die "could not install $*. Run: sudo apt-get update && sudo apt-get install -y $*"
    fi
  fi
}

# Sets DENO to a Deno >= 2 binary: the one on PATH, or one installed from npm
# into .tools/ inside the checkout (no root needed).
ensure_deno() {
  if command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | grep -q '^deno 2\.'; then
    DENO=$(command -v deno)
    return
  fi
  DENO="$ROOT/.tools/node_modules/.bin/deno"
  if [ -x "$DENO" ] && "$DENO" --version 2>/dev/null | grep -q "^deno $DENO_VERSION"; then
    return
  fi
  command -v npm >/dev/null 2>&1 ||
    die "Deno is missing and so is npm. Install Node.js (sudo apt-get install -y nodejs npm) or Deno (https://deno.com), then run this again."
  say "installing Deno $DENO_VERSION from npm into .tools/"
  npm install --prefix "$ROOT/.tools" --no-save --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >/dev/null ||
    die "npm could not install Deno. Run: npm install --prefix '$ROOT/.tools' deno@$DENO_VERSION"
  "$DENO" --version >/dev/null 2>&1 || die "Deno installed into .tools/ does not run on this machine."
}

# ---------------------------------------------------------------------------
# The CPU engine (Unicorn). Chosen in this order:
#   1. VMKIT_UNICORN_PATH set by the user: used as is (it must exist).
#   2. The system's libunicorn when it is 2.1 or newer.
#   3. With apt, no system Unicorn and root: the release's package when its
#      candidate is 2.1 or newer (Debian 13 and later, Ubuntu 25.10 and later).
#   4. With apt: Debian 13 (trixie)'s libunicorn2t64, fetched without root into
#      .cache/engines/ (engine_fetch); a valid copy there is used without apt.
#   5. Without apt: the system's library whatever its version (warned when
#      older than 2.1), or the command that installs it.
# 2.0.x sends every guest store through the engine's slow path, which is why
# 2.1 is worth a download. The choice reaches the deno process through
# VMKIT_UNICORN_PATH, exported here (never changed when the user set it).

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# Prints "VERSION PATH" for the first of the given library paths that loads
# as Unicorn (its own uc_version says the version); otherwise prints why on
# stderr and returns 1. Needs $DENO.
unicorn_probe() {
  "$DENO" run --quiet --no-lock --allow-ffi --allow-read "$ROOT/scripts/engine_probe.ts" "$@"
}

# The system library files the dynamic loader would consider, most specific
# first: LD_LIBRARY_PATH, the loader cache, then the usual directories.
system_unicorn_candidates() {
  (
    IFS=:
    for d in ${LD_LIBRARY_PATH:-}; do [ -n "$d" ] && printf '%s\n' "$d/libunicorn.so.2"; done
  )
  ldconfig=$(command -v ldconfig 2>/dev/null || echo /sbin/ldconfig)
  [ -x "$ldconfig" ] && "$ldconfig" -p 2>/dev/null | sed -n 's/^[[:space:]]*libunicorn\.so\.2 (.*) => //p'
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
    printf '%s\n' "$d/libunicorn.so.2"
  done
  for d in /opt/homebrew/lib /usr/local/lib; do printf '%s\n' "$d/libunicorn.2.dylib"; done
}

# Sets SYSTEM_UNICORN_VERSION and SYSTEM_UNICORN_PATH for the system's
# library, or returns 1 (SYSTEM_UNICORN_PROBLEM says why when a file was found
# but does not load).
system_unicorn() {
  SYSTEM_UNICORN_VERSION="" SYSTEM_UNICORN_PATH="" SYSTEM_UNICORN_PROBLEM=""
  found=""
  for f in $(system_unicorn_candidates); do
    [ -f "$f" ] && found="$found $f"
  done
  [ -n "$found" ] || return 1
  # shellcheck disable=SC2086
  if out=$(unicorn_probe $found 2>&1); then
    out=$(printf '%s\n' "$out" | tail -n 1)
    SYSTEM_UNICORN_VERSION=${out%% *}
    SYSTEM_UNICORN_PATH=${out#* }
    return 0
  fi
  SYSTEM_UNICORN_PROBLEM=$(printf '%s\n' "$out" | tr '\n' ';' | sed 's/;$//; s/;/; /g')
  return 1
}

# version_at_least VERSION MAJOR MINOR PATCH: true when VERSION (x.y.z, a
# Debian version such as 1:2.0.1.post1-1+b1 too) is at least MAJOR.MINOR.PATCH.
version_at_least() {
  printf '%s\n' "$1" | sed 's/^[0-9]*://; s/-[^-]*$//' |
    awk -F. -v a="$2" -v b="$3" -v c="$4" '{
      x = $1 + 0; y = $2 + 0; z = $3 + 0
      exit !(x > a || (x == a && (y > b || (y == b && z >= c))))
    }'
}

# "Debian 13 (trixie)" for messages.
release_name() {
  case "$1" in
  bookworm) echo "Debian 12 (bookworm)" ;;
  trixie) echo "Debian 13 (trixie)" ;;
  sid | unstable) echo "Debian sid" ;;
  *) echo "Debian $1" ;;
  esac
}

# The package that holds libunicorn.so.2 in a Debian release.
release_unicorn_package() {
  case "$1" in
  bookworm | bullseye) echo libunicorn2 ;;
  *) echo libunicorn2t64 ;;
  esac
}

# True when the cached engine directory $1 holds a library whose SHA-256 is
# the one recorded when it was unpacked.
engine_cache_valid() {
  [ -f "$1/libunicorn.so.2" ] && [ -f "$1/libunicorn.so.2.sha256" ] &&
    (cd "$1" && sha256sum -c --status libunicorn.so.2.sha256) 2>/dev/null
}

# The archive keyring that apt checks Debian's signatures with.
ensure_archive_keyring() {
  [ -f "$KEYRING" ] && return 0
  say "Debian's archive keyring ($KEYRING) is needed to check the engine's download"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debian-archive-keyring >/dev/null 2>&1 ||
    { as_root env DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null 2>&1 &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debian-archive-keyring >/dev/null 2>&1; } ||
    { say "could not install it. Run: sudo apt-get install -y debian-archive-keyring"; return 1; }
}

# engine_download TMP RELEASE PACKAGE ARCH: downloads PACKAGE from RELEASE
# with apt (a private configuration in TMP, no root), unpacks its
# libunicorn.so.2 into TMP/engine with its SHA-256, and prints the cache
# directory name. apt checks the chain itself: the InRelease signature
# against Debian's keyring, the Packages index against InRelease, the .deb
# against the index. Messages go to stderr.
engine_download() {
  tmp=$1 release=$2 package=$3 arch=$4
  mirror=${VMKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb" "$tmp/root" "$tmp/engine" || return 1
  printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$arch" "$KEYRING" "$mirror" "$release" >"$tmp/sources.list"
  # Only this sources list, this keyring and private state; the host's apt
  # configuration still applies (proxies), but never its trust settings.
  set -- -q \
    -o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
    -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" \
    -o Debug::NoLocking=1 -o Acquire::Languages=none \
    -o Acquire::AllowInsecureRepositories=false \
    -o Acquire::AllowDowngradeToInsecureRepositories=false \
    -o APT::Get::AllowUnauthenticated=false
  # As root apt downloads as the _apt user, which cannot write into the checkout.
  [ "$(id -u)" = 0 ] && set -- "$@" -o APT::Sandbox::User=root
  if ! apt-get "$@" update >"$tmp/apt.log" 2>&1; then
    say "apt-get update for $(release_name "$release") failed: $(grep -E '^(E|W|Err):' "$tmp/apt.log" | head -n 2 | tr '\n' ' ')"
    return 1
  fi
  if ! (cd "$tmp/deb" && apt-get "$@" download "$package") >>"$tmp/apt.log" 2>&1; then
    say "apt-get download $package from $(release_name "$release") failed: $(grep -E '^(E|W|Err):' "$tmp/apt.log" | head -n 2 | tr '\n' ' ')"
    return 1
  fi
  deb=$(find "$tmp/deb" -name '*.deb' | head -n 1)
  [ -n "$deb" ] || { say "apt-get download $package left no .deb"; return 1; }
  version=$(dpkg-deb -f "$deb" Version) || return 1
  dpkg-deb -x "$deb" "$tmp/root" || { say "dpkg-deb -x $deb failed"; return 1; }
  lib=$(cd "$tmp/root" && find . -name libunicorn.so.2 | head -n 1)
  [ -n "$lib" ] || { say "$package $version has no libunicorn.so.2"; return 1; }
  real=$(cd "$tmp/root" && readlink -f "$lib") || return 1
  # The unpacked file against the package's own checksum list: the .deb was
  # verified by apt, this catches a bad unpack.
  rel=${real#"$(cd "$tmp/root" && pwd -P)/"}
  want=$(dpkg-deb -I "$deb" md5sums 2>/dev/null | awk -v f="$rel" '$2 == f { print $1 }')
  got=$(md5sum "$real" | awk '{ print $1 }')
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    say "$package $version: $rel does not match the package's md5sums"
    return 1
  fi
  cp "$real" "$tmp/engine/libunicorn.so.2" || return 1
  if ! out=$(unicorn_probe "$tmp/engine/libunicorn.so.2" 2>&1); then
    say "$(release_name "$release")'s $package $version does not load on this machine: $out"
    return 1
  fi
  (cd "$tmp/engine" && sha256sum libunicorn.so.2 >libunicorn.so.2.sha256) || return 1
  printf '%s_%s_%s\n' "$package" "$(printf '%s' "$version" | sed 's/:/%3a/g')" "$arch"
}

# engine_fetch RELEASE [PACKAGE]: sets ENGINE_LIB to Debian RELEASE's
# libunicorn.so.2 (PACKAGE defaults to the release's name for it), from
# .cache/engines/ when the copy there is whole, else downloaded with apt
# (no root) and moved into place atomically. Returns 1 with the reason said
# when it cannot.
engine_fetch() {
  release=$1
  package=${2:-$(release_unicorn_package "$1")}
  ENGINE_LIB=""
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    say "fetching Debian's Unicorn needs apt-get and dpkg-deb, and this machine lacks them"
    return 1
  fi
  arch=$(dpkg --print-architecture) || return 1
  engines="$ROOT/.cache/engines"
  pointer="$engines/$release-$package-$arch.current"
  if [ -f "$pointer" ]; then
    name=$(cat "$pointer")
    if [ -n "$name" ] && engine_cache_valid "$engines/$name"; then
      ENGINE_LIB="$engines/$name/libunicorn.so.2"
      return 0
    fi
    say "the cached engine .cache/engines/$name is damaged or incomplete; fetching it again"
    [ -n "$name" ] && rm -rf "${engines:?}/$name"
    rm -f "$pointer"
  fi
  ensure_archive_keyring || return 1
  mkdir -p "$engines" || return 1
  # Leftovers of a run that was killed mid-download (a live one is younger).
  find "$engines" -maxdepth 1 -name '.fetch-*' -mmin +60 -exec rm -rf {} + 2>/dev/null
  say "fetching $(release_name "$release")'s $package ($arch) into .cache/engines/"
  tmp=$(mktemp -d "$engines/.fetch-XXXXXX") || return 1
  if name=$(engine_download "$tmp" "$release" "$package" "$arch"); then
    # A directory of that name from an interrupted earlier run, or from a
    # concurrent one, is kept only when it checks out.
    if [ -e "$engines/$name" ] && ! engine_cache_valid "$engines/$name"; then
      rm -rf "${engines:?}/$name"
    fi
    [ -e "$engines/$name" ] || mv "$tmp/engine" "$engines/$name"
    printf '%s\n' "$name" >"$tmp/pointer" && mv "$tmp/pointer" "$pointer"
  fi
  rm -rf "$tmp"
  if [ -f "$pointer" ] && engine_cache_valid "$engines/$name"; then
    ENGINE_LIB="$engines/$name/libunicorn.so.2"
    say "Unicorn ready: .cache/engines/$name"
    return 0
  fi
  return 1
}

# What to tell a person whose machine has no usable Unicorn: the command
# that installs it (upgrades it with "upgrade" as $1).
unicorn_fix() {
  if command -v apt-get >/dev/null 2>&1; then
    echo "Run: sudo apt-get install -y $(apt_unicorn_package)"
  elif command -v dnf >/dev/null 2>&1; then
    echo "Run: sudo dnf ${1:-install} -y unicorn"
  elif command -v brew >/dev/null 2>&1; then
    echo "Run: brew ${1:-install} unicorn"
  else
    echo "Install Unicorn 2.1 or newer with your package manager, or set VMKIT_UNICORN_PATH to its libunicorn.so.2"
  fi
}

# The name of this apt release's Unicorn package: libunicorn2t64 where apt
# knows it (Debian 13, Ubuntu 24.10 and later), else libunicorn2.
apt_unicorn_package() {
  if apt-cache show libunicorn2t64 >/dev/null 2>&1; then echo libunicorn2t64; else echo libunicorn2; fi
}

# Installs the release's own Unicorn when it is 2.1 or newer and we can be
# root; returns 1 when that does not apply (then Debian 13's is fetched).
apt_install_unicorn_2_1() {
  as_root true 2>/dev/null || return 1
  if ! apt-cache show libunicorn2t64 >/dev/null 2>&1 && ! apt-cache show libunicorn2 >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null 2>&1 || return 1
  fi
  pkg=$(apt_unicorn_package)
  candidate=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
  case "$candidate" in "" | "(none)") return 1 ;; esac
  version_at_least "$candidate" 2 1 0 || return 1
  say "installing $pkg $candidate"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >/dev/null 2>&1 ||
    { say "apt-get install $pkg failed; using Debian 13's build instead"; return 1; }
  system_unicorn && version_at_least "$SYSTEM_UNICORN_VERSION" 2 1 0
}

warn_slow_engine() {
  say "warning: Unicorn $1 at $2 is older than 2.1: every guest store takes the engine's slow path and Linux boots several times slower. $3"
}

# Sets VMKIT_UNICORN_PATH (exported) to the engine to use, or stops with one
# line saying what was found, where, and the command that fixes it.
ensure_unicorn() {
  if [ -n "${VMKIT_UNICORN_PATH:-}" ]; then
    [ -f "$VMKIT_UNICORN_PATH" ] ||
      die "VMKIT_UNICORN_PATH=$VMKIT_UNICORN_PATH: no such file. Point it at a libunicorn.so.2 (2.0.1 or newer), or run: unset VMKIT_UNICORN_PATH (./vmkit then picks the system's 2.1+ or fetches Debian 13's)"
    return 0
  fi
  have_system=false
  if system_unicorn; then
    have_system=true
    if version_at_least "$SYSTEM_UNICORN_VERSION" 2 1 0; then
      export VMKIT_UNICORN_PATH="$SYSTEM_UNICORN_PATH"
      return 0
    fi
  fi
  if command -v apt-get >/dev/null 2>&1; then
    # Older than 2.1 or missing: a whole cached Debian 13 build needs no apt at all.
    if ! $have_system && [ ! -f "$ROOT/.cache/engines/trixie-libunicorn2t64-$(dpkg --print-architecture).current" ] &&
      apt_install_unicorn_2_1; then
      export VMKIT_UNICORN_PATH="$SYSTEM_UNICORN_PATH"
      return 0
    fi
    if engine_fetch trixie libunicorn2t64; then
      export VMKIT_UNICORN_PATH="$ENGINE_LIB"
      return 0
    fi
    if $have_system && version_at_least "$SYSTEM_UNICORN_VERSION" 2 0 1; then
      warn_slow_engine "$SYSTEM_UNICORN_VERSION" "$SYSTEM_UNICORN_PATH" "Debian 13's 2.1 could not be fetched (above); ./vmkit tries again next time."
      export VMKIT_UNICORN_PATH="$SYSTEM_UNICORN_PATH"
      return 0
    fi
  elif $have_system && version_at_least "$SYSTEM_UNICORN_VERSION" 2 0 1; then
    warn_slow_engine "$SYSTEM_UNICORN_VERSION" "$SYSTEM_UNICORN_PATH" "$(unicorn_fix upgrade)"
    export VMKIT_UNICORN_PATH="$SYSTEM_UNICORN_PATH"
    return 0
  fi
  if $have_system; then
    die "Unicorn $SYSTEM_UNICORN_VERSION at $SYSTEM_UNICORN_PATH is too old (VMKit needs 2.0.1 or newer, 2.1 recommended). $(unicorn_fix upgrade)"
  elif [ -n "$SYSTEM_UNICORN_PROBLEM" ]; then
    die "no usable Unicorn: $SYSTEM_UNICORN_PROBLEM. $(unicorn_fix)"
  elif command -v apt-get >/dev/null 2>&1; then
    die "the Unicorn CPU emulator (libunicorn.so.2) is missing and Debian 13's could not be fetched (see above). $(unicorn_fix)"
  else
    die "the Unicorn CPU emulator (libunicorn.so.2) is missing. $(unicorn_fix)"
  fi
}

# What the tests need beyond the runtime: dtc for golden device trees, a
# cross compiler for the bare-metal guests, QEMU for its virt board's device
# tree (and the boot benchmark's reference), file(1) to check kernel headers
# against, gdb-multiarch as the real client of the GDB stub, e2fsprogs to
# make and check the disk images of the virtio tests, the arm64 C library
# for the static test programs run inside Linux guests, script(1) to give
# the CLI's tests a pseudo-terminal.
ensure_test_tools() {
  missing=""
  # A user's PATH may lack the sbin directories e2fsprogs lives in.
  command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.ext4 ] || [ -x /sbin/mkfs.ext4 ] ||
    missing="$missing e2fsprogs"
  command -v dtc >/dev/null 2>&1 || missing="$missing device-tree-compiler"
  command -v qemu-system-aarch64 >/dev/null 2>&1 || missing="$missing qemu-system-arm"
  command -v file >/dev/null 2>&1 || missing="$missing file"
  command -v gdb-multiarch >/dev/null 2>&1 || missing="$missing gdb-multiarch"
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing="$missing gcc-aarch64-linux-gnu"
  command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 || missing="$missing binutils-aarch64-linux-gnu"
  # The static Linux test programs link against the arm64 C library.
  [ -e /usr/aarch64-linux-gnu/lib/libc.a ] || missing="$missing libc6-dev-arm64-cross"
  # The 32-bit ARM test program (AArch32 at EL0 under the arm64 kernel's compat layer).
  command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || missing="$missing gcc-arm-linux-gnueabihf"
  [ -e /usr/arm-linux-gnueabihf/lib/libc.a ] || missing="$missing libc6-dev-armhf-cross"
  command -v make >/dev/null 2>&1 || missing="$missing make"
  command -v script >/dev/null 2>&1 || missing="$missing bsdutils"
  # The TAP tests: a network namespace of their own (ip), and the host pinging the guest in it.
  command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing="$missing iproute2"
  command -v ping >/dev/null 2>&1 || missing="$missing iputils-ping"
  # shellcheck disable=SC2086
  [ -z "$missing" ] || apt_install $missing
  ensure_fetch_tools
}

# What unpacking Debian's packages needs (the Linux guest download).
ensure_fetch_tools() {
  missing=""
  command -v dpkg-deb >/dev/null 2>&1 || missing="$missing dpkg"
  command -v xz >/dev/null 2>&1 || missing="$missing xz-utils"
  # shellcheck disable=SC2086
  [ -z "$missing" ] || apt_install $missing
}

# Builds the bare-metal test guests (sources in guests/).
ensure_guest_builds() {
  [ -f "$ROOT/guests/Makefile" ] || return 0
  make -s -C "$ROOT/guests" >/dev/null || die "building the bare-metal guests failed. Run: make -C guests"
}

# Debian's arm64 kernel and busybox, for the Linux tests.
ensure_linux_guest() {
  "$DENO" run --allow-net=deb.debian.org --allow-read --allow-write --allow-run=dpkg-deb,xz,tar --allow-env \
    "$ROOT/scripts/fetch_guests.ts" --quiet || die "fetching the Linux test guest failed. Run: $DENO run -A scripts/fetch_guests.ts"
}
