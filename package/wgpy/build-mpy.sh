#!/bin/sh
# Compile the wgpy modules the router package installs to .mpy: `build-mpy.sh SRC OUT
# MPY_CROSS` turns SRC/wgpy/**.py into OUT/wgpy/**.mpy (the bytecode is the same for every
# CPU). Used by the OpenWrt package (Makefile) and `make router-stage` (mk/mpy.mk), so both
# install the same files.
#
# Left out: the web UI (web/, webui/: uhttpd + rpcd serve the page on routers), the cffi
# build script (_core_build.py), and the ubus service (router/service.py, router/ubus.py:
# it needs python3-ubus, CPython only).
set -eu
mkdir -p "$2"
out="$(cd "$2" && pwd)/wgpy" mpy_cross="$3"

rm -rf "$out"
cd "$1/wgpy"
find . -name '*.py' \
	! -path './web/*' ! -path './webui/*' ! -name _core_build.py \
	! -path './router/service.py' ! -path './router/ubus.py' | sort |
while read -r file; do
	mkdir -p "$out/$(dirname "$file")"
	"$mpy_cross" -s "wgpy/${file#./}" -o "$out/${file%.py}.mpy" "$file"
done
