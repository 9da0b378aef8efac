#!/bin/sh
# Install the router package's files into DEST as OpenWrt installs them: `install.sh DEST
# MPY LIBWGCORE` with MPY the output of build-mpy.sh and LIBWGCORE the C core built for the
# target; the page's static files are the tree's src/wgpy/webui. Used by the OpenWrt
# package (Makefile) and `make router-stage` (mk/mpy.mk).
set -eu
dest="$1" mpy="$2" libwgcore="$3"
files="$(dirname "$0")/files" webui="$(dirname "$0")/../../src/wgpy/webui"

# wgpy itself, where MicroPython looks by default (beside micropython-lib), and the C core
# where dlopen finds it.
install -d "$dest/usr/lib/micropython"
cp -R "$mpy/wgpy" "$dest/usr/lib/micropython/"
install -D -m 0755 "$libwgcore" "$dest/usr/lib/libwgcore.so"

install -D -m 0755 "$files/wgpy" "$dest/usr/bin/wgpy"
install -D -m 0755 "$files/wgpyd" "$dest/usr/bin/wgpyd"
install -D -m 0755 "$files/wgpy.sh" "$dest/lib/netifd/proto/wgpy.sh"
install -D -m 0755 "$files/wgpy.init" "$dest/etc/init.d/wgpy"

# Nothing resident (docs/resident.md): the iface hotplug re-chooses the automatic MTU, the
# first-boot defaults add the cron watchdog.
install -D -m 0644 "$files/wgpy.hotplug" "$dest/etc/hotplug.d/iface/90-wgpy"
install -D -m 0755 "$files/wgpy.defaults" "$dest/etc/uci-defaults/90-wgpy"

# The page over ubus (docs/web.md): rpcd's exec plugin under each object's name, its ACLs,
# the static page in uhttpd's docroot, LuCI's menu entry and view.
for object in wgpy wireguard luci.wireguard; do
	install -D -m 0755 "$files/rpcd/wgpy.rpcd" "$dest/usr/libexec/rpcd/$object"
done
install -d "$dest/usr/share/rpcd/acl.d"
install -m 0644 "$files"/acl.d/*.json "$dest/usr/share/rpcd/acl.d/"
install -d "$dest/www/wgpy"
cp -R "$webui"/. "$dest/www/wgpy/"
install -D -m 0644 "$files/luci/menu.d/luci-app-wgpy.json" \
	"$dest/usr/share/luci/menu.d/luci-app-wgpy.json"
install -D -m 0644 "$files/luci/view/wgpy/page.js" \
	"$dest/www/luci-static/resources/view/wgpy/page.js"
