#!/bin/sh
# Install the router package's files into DEST as OpenWrt installs them: `install.sh DEST
# MPY LIBWGCORE` with MPY the output of build-mpy.sh and LIBWGCORE the C core built for the
# target. Used by the OpenWrt package (Makefile) and `make router-stage` (mk/mpy.mk).
set -eu
dest="$1" mpy="$2" libwgcore="$3"
files="$(dirname "$0")/files"

# wgpy itself, where MicroPython looks by default (beside micropython-lib), and the C core
# where dlopen finds it.
install -d "$dest/usr/lib/micropython"
cp -R "$mpy/wgpy" "$dest/usr/lib/micropython/"
install -D -m 0755 "$libwgcore" "$dest/usr/lib/libwgcore.so"

install -D -m 0755 "$files/wgpy" "$dest/usr/bin/wgpy"
install -D -m 0755 "$files/wgpyd" "$dest/usr/bin/wgpyd"
install -D -m 0755 "$files/wgpy.sh" "$dest/lib/netifd/proto/wgpy.sh"
install -D -m 0755 "$files/wgpy.init" "$dest/etc/init.d/wgpy"
install -D -m 0600 "$files/wgpy.config" "$dest/etc/config/wgpy"
install -d "$dest/usr/share/rpcd/acl.d"
install -m 0644 "$files"/acl.d/*.json "$dest/usr/share/rpcd/acl.d/"

# Branch `rpc`: the rpcd exec plugins (dispatching into router/handlers.py) go here, as
#   install -D -m 0755 "$files/<plugin>" "$dest/usr/libexec/rpcd/<name>"
# Branch `resident`: its cron and hotplug files go here, as
#   install -D -m 0755 "$files/<hotplug>" "$dest/etc/hotplug.d/iface/<NN-name>"
