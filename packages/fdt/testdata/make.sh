#!/bin/sh
# Regenerates the golden blobs from their sources. Pass --qemu to redump QEMU's virt tree too.
set -eu
cd "$(dirname "$0")"
for f in memreserve phandles types minimal; do
  dtc -q -I dts -O dtb -o "$f.dtb" "$f.dts"
done
dtc -q -I dts -O dtb -b 1 -V 16 -o memreserve-v16.dtb memreserve.dts
dtc -q -I dts -O dtb -p 512 -o phandles-padded.dtb phandles.dts
dtc -q -I dts -O dtb -@ -o phandles-symbols.dtb phandles.dts
dtc -q -I dts -O dtb -a 64 -b 3 -o types-aligned.dtb types.dts
# Expected results of the build and edit scenarios (scenarios.ts), as dtc compiles them.
dtc -q -I dts -O dtb -b 1 -o built-virt.dtb built-virt.dts
dtc -q -I dts -O dtb -o qemu-virt-edited.dtb qemu-virt-edited.dts
dtc -q -I dts -O dtb -o phandles-edited.dtb phandles-edited.dts
if [ "${1:-}" = "--qemu" ]; then
  qemu-system-aarch64 -M virt,dumpdtb=qemu-virt.dtb -cpu cortex-a72 -nographic -nic none
  dtc -I dtb -O dts -o qemu-virt.dts qemu-virt.dtb
  # qemu_test.ts compares against the release recorded here.
  release=$(qemu-system-aarch64 --version | sed -n 's/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p')
  printf '{\n  "qemuRelease": "%s",\n  "command": "%s"\n}\n' "$release" \
    "qemu-system-aarch64 -M virt,dumpdtb=qemu-virt.dtb -cpu cortex-a72 -nographic -nic none" >qemu-virt.json
fi
