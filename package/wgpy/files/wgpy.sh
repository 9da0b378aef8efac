#!/bin/sh
# shellcheck shell=dash # busybox ash, like dash, has `local`
# netifd protocol handler for proto 'wgpy': the options of proto 'wireguard', served by
# wgpyd. wgpyd is netifd's proto task (proto_run_command): when it dies netifd notices at
# once, marks the interface down, runs the teardown and sets it up again. Setup then runs
# `wgpy up --netifd`, which waits for that wgpyd, applies keys and peers over UAPI (bad
# peers skipped, not fatal) and prints what netifd must own, one per line:
#   address4|address6 IP PREFIX   route4|route6 NETWORK PREFIX   hostdep ENDPOINT-IP
#   error CODE MESSAGE   (for proto_notify_error: shown in `ubus call network.interface.X
#                         status` as errors[] {subsystem "wgpy", code, data [MESSAGE]})
# A setup starts at most once per 5 s (wgpy's own spacing, as wireguard.sh sleeps 5 s
# before proto_setup_failed), so a bad config does not make netifd retry in a storm.
# Peer sections are read by wgpy itself; /etc/init.d/wgpy applies their edits live.

[ -n "$INCLUDE_ONLY" ] || {
	# shellcheck source=/dev/null
	. /lib/functions.sh
	# shellcheck source=/dev/null
	. ../netifd-proto.sh
	init_proto "$@"
}

WGPY="${WGPY:-/usr/bin/wgpy}"
WGPYD="${WGPYD:-/usr/bin/wgpyd}"

proto_wgpy_init_config() {
	proto_config_add_string "private_key"
	proto_config_add_int "listen_port"
	proto_config_add_int "mtu"
	proto_config_add_string "fwmark"
	proto_config_add_array "addresses:list(ipaddr)"
	proto_config_add_boolean "nohostroute"
	proto_config_add_string "tunlink"
	proto_config_add_boolean "killswitch"
	# shellcheck disable=SC2034 # read by netifd-proto.sh
	available=1
	# shellcheck disable=SC2034
	no_device=1
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
		error) proto_notify_error "$config" "$addr" "$prefix" ;;
	esac
}

# Configure the running wgpyd and hand netifd its addresses, routes and errors.
proto_wgpy_configure() {
	local config="$1" tunlink plan status=0

	json_get_var tunlink tunlink
	plan="$("$WGPY" up --netifd "$config")" || status=1
	if [ "$status" != 0 ]; then
		proto_wgpy_each "$config" "$tunlink" "$plan" error
		proto_setup_failed "$config"
		exit 1
	fi
	proto_init_update "$config" 1
	proto_wgpy_each "$config" "$tunlink" "$plan" update
	proto_send_update "$config"
	# Errors after the update: netifd clears them when the interface goes up, and
	# proto_notify_error starts a JSON message of its own (json_init).
	proto_wgpy_each "$config" "$tunlink" "$plan" error
}

# Report the plan's `error` lines (which=error) or all others (which=update).
proto_wgpy_each() {
	local config="$1" tunlink="$2" plan="$3" which="$4" kind addr prefix

	# A here-document, not a pipe: the proto_* calls must run in this shell.
	while read -r kind addr prefix; do
		case "$which:$kind" in
			error:error|update:[!e]*) proto_wgpy_report "$config" "$tunlink" "$kind" "$addr" "$prefix" ;;
		esac
	done <<-EOF
		$plan
	EOF
}

proto_wgpy_setup() {
	local config="$1"

	proto_run_command "$config" "$WGPYD" -f "$config"
	proto_wgpy_configure "$config"
}

# Renew (`ubus call network.interface.X renew`, sent by `wgpy reload`): wgpyd keeps
# running; only the config is pushed again and netifd's view updated.
proto_wgpy_renew() {
	proto_wgpy_configure "$1"
}

proto_wgpy_teardown() {
	local config="$1"

	"$WGPY" down --netifd "$config"
	proto_kill_command "$config"
}

[ -n "$INCLUDE_ONLY" ] || {
	add_protocol wgpy
}
