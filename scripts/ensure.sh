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

unicorn_present() {
  if [ -n "${VMKIT_UNICORN_PATH:-}" ]; then
    [ -f "$VMKIT_UNICORN_PATH" ]
    return
  fi
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib /opt/homebrew/lib; do
    for f in "$d/libunicorn.so.2" "$d/libunicorn.2.dylib"; do
      [ -f "$f" ] && return 0
    done
  done
  command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libunicorn\.so\.2'
}

# The CPU emulator. Debian and Ubuntu ship it as libunicorn2 (2.0.1).
ensure_unicorn() {
  unicorn_present && return
  if command -v apt-get >/dev/null 2>&1; then
    apt_install libunicorn2
    unicorn_present || die "libunicorn2 is installed but libunicorn.so.2 was not found; set VMKIT_UNICORN_PATH to its path."
  elif command -v dnf >/dev/null 2>&1; then
    die "the Unicorn CPU emulator is missing. Run: sudo dnf install -y unicorn"
  elif command -v brew >/dev/null 2>&1; then
    die "the Unicorn CPU emulator is missing. Run: brew install unicorn"
  else
    die "the Unicorn CPU emulator (libunicorn.so.2, version 2.0.1 or newer) is missing; install it with your package manager or set VMKIT_UNICORN_PATH."
  fi
}

# What the tests need beyond the runtime: dtc for golden device trees and a
# cross compiler for the bare-metal guests.
ensure_test_tools() {
  missing=""
  command -v dtc >/dev/null 2>&1 || missing="$missing device-tree-compiler"
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing="$missing gcc-aarch64-linux-gnu"
  command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 || missing="$missing binutils-aarch64-linux-gnu"
  command -v make >/dev/null 2>&1 || missing="$missing make"
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

# The reference emulator that the boot benchmark compares against.
ensure_qemu() {
  command -v qemu-system-aarch64 >/dev/null 2>&1 || apt_install qemu-system-arm
}

# Builds the bare-metal test guests (sources in guests/).
ensure_guest_builds() {
  [ -f "$ROOT/guests/Makefile" ] || return 0
  make -s -C "$ROOT/guests" >/dev/null || die "building the bare-metal guests failed. Run: make -C guests"
}

# Debian's arm64 kernel and busybox, for the Linux tests.
ensure_linux_guest() {
  "$DENO" run --allow-net=deb.debian.org --allow-read --allow-write --allow-run=dpkg-deb,xz --allow-env \
    "$ROOT/scripts/fetch_guests.ts" --quiet || die "fetching the Linux test guest failed. Run: $DENO run -A scripts/fetch_guests.ts"
}
