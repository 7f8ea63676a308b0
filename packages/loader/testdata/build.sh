#!/bin/sh
# Rebuilds the committed test DTBs from their sources (the tests also check they are in sync).
set -eu
cd "$(dirname "$0")"
for src in *.dts; do
	dtc -q -I dts -O dtb -o "${src%.dts}.dtb" "$src"
done
