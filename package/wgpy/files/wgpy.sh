#!/bin/sh
# shellcheck shell=dash # busybox ash, like dash, has `local`
# netifd protocol handler for proto 'wgpy': the options of proto 'wireguard', served by
# wgpyd. Setup runs `wgpy up --netifd`, which starts wgpyd, applies keys and peers over
# UAPI (bad peers skipped, not fatal) and prints what netifd must own, one per line:
#   address4|address6 IP PREFIX   route4|route6 NETWORK PREFIX   hostdep ENDPOINT-IP
# Peer sections are read by wgpy itself; /etc/init.d/wgpy applies their edits live.

[ -n "$INCLUDE_ONLY" ] || {
	# shellcheck source=/dev/null
	. /lib/functions.sh
	# shellcheck source=/dev/null
	. ../netifd-proto.sh
	init_proto "$@"
}

WGPY="${WGPY:-/usr/bin/wgpy}"

proto_wgpy_init_config() {
	proto_config_add_string "private_key"
	proto_config_add_int "listen_port"
	proto_config_add_int "mtu"
	proto_config_add_string "fwmark"
	proto_config_add_array "addresses:list(ipaddr)"
	proto_config_add_boolean "nohostroute"
	proto_config_add_string "tunlink"
	# shellcheck disable=SC2034 # read by netifd-proto.sh
	available=1
	# shellcheck disable=SC2034
	no_device=1
	# shellcheck disable=SC2034
	no_proto_task=1
	# shellcheck disable=SC2034
	renew_handler=1
}

# Report one line of `wgpy up --netifd` output to netifd.
proto_wgpy_report() {
	local config="$1" tunlink="$2" kind="$3" addr="$4" prefix="$5"

	case "$kind" in
		address4) proto_add_ipv4_address "$addr" "$prefix" ;;
		address6) proto_add_ipv6_address "$addr" "$prefix" ;;
		route4) proto_add_ipv4_route "$addr" "$prefix" ;;
		route6) proto_add_ipv6_route "$addr" "$prefix" ;;
		hostdep) proto_add_host_dependency "$config" "$addr" "$tunlink" ;;
	esac
}

proto_wgpy_setup() {
	local config="$1" tunlink plan kind addr prefix

	json_get_var tunlink tunlink
	if ! plan="$("$WGPY" up --netifd "$config")"; then
		# The reason (file, section, option) is in the log via wgpy's stderr.
		proto_notify_error "$config" "WGPY_SETUP_FAILED"
		proto_setup_failed "$config"
		exit 1
	fi

	proto_init_update "$config" 1
	# A here-document, not a pipe: the proto_add_* calls must run in this shell.
	while read -r kind addr prefix; do
		[ -n "$kind" ] && proto_wgpy_report "$config" "$tunlink" "$kind" "$addr" "$prefix"
	done <<-EOF
		$plan
	EOF
	proto_send_update "$config"
}

proto_wgpy_renew() {
	proto_wgpy_setup "$@"
}

proto_wgpy_teardown() {
	local config="$1"

	"$WGPY" down "$config"
}

[ -n "$INCLUDE_ONLY" ] || {
	add_protocol wgpy
}
