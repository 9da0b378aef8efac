#!/bin/sh
# Compile the wgpy modules the router package installs to .mpy: `build-mpy.sh SRC OUT
# MPY_CROSS` turns SRC/wgpy/**.py into OUT/wgpy/**.mpy (the bytecode is the same for every
# CPU). Used by the OpenWrt package (Makefile) and `make router-stage` (mk/mpy.mk), so both
# install the same files.
#
# Left out: `wgpy web`, the development server (web/server.py, jsonrpc.py, auth.py, cli.py,
# hosts.py: on routers uhttpd serves the page and rpcd runs web/rpcd.py), the page's static
# files (webui/, installed as they are) and the cffi build script (_core_build.py).
set -eu
mkdir -p "$2"
out="$(cd "$2" && pwd)/wgpy" mpy_cross="$3"

rm -rf "$out"
cd "$1/wgpy"
find . -name '*.py' \
	! -path './webui/*' ! -name _core_build.py ! -path './web/server.py' \
	! -path './web/jsonrpc.py' ! -path './web/auth.py' ! -path './web/cli.py' \
	! -path './web/hosts.py' | sort |
while read -r file; do
	mkdir -p "$out/$(dirname "$file")"
	"$mpy_cross" -s "wgpy/${file#./}" -o "$out/${file%.py}.mpy" "$file"
done
