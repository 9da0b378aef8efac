"""Typed wgpy configuration: each kind of bad configuration gives one message naming file,
section and option, `wgpy up` refuses or skips accordingly, and the file is byte-for-byte
untouched. Runs without root: the interfaces fail before any daemon would start."""

import pytest

from wgpy import cli, keys
from wgpy.uci import schema, syntax

PATH = "/etc/config/network"


def key() -> str:
    return keys.generate()


PRIVATE = key()
PEER_A, PEER_B = keys.public_key(key()), keys.public_key(key())


def config(iface_extra: str = "", peers: str = "") -> str:
    return (f"\nconfig interface 'wg0'\n\toption proto 'wgpy'\n"
            f"\toption private_key '{PRIVATE}'\n{iface_extra}{peers}")


def peer(name: str, public: str, extra: str = "") -> str:
    return (f"\nconfig wireguard_wg0 '{name}'\n\toption public_key '{public}'\n"
            f"\tlist allowed_ips '10.0.0.2/32'\n{extra}")


def load(text: str) -> schema.InterfaceConfig:
    return schema.interfaces(syntax.parse(text, "network"), PATH)["wg0"]


def test_a_full_openwrt_wireguard_config_reads_by_changing_proto_only():
    text = config("\toption listen_port '51820'\n\tlist addresses '10.0.0.1/24'\n"
                  "\tlist addresses 'fd00::1'\n\toption mtu '1420'\n\toption fwmark '0x1234'\n"
                  "\toption nohostroute '1'\n",
                  peer("a", PEER_A, "\toption preshared_key '" + key() + "'\n"
                       "\toption route_allowed_ips '1'\n\toption endpoint_host 'vpn.example.net'\n"
                       "\toption persistent_keepalive '25'\n\toption description 'Office'\n")
                  + peer("b", PEER_B, "\toption disabled '1'\n")
                  + f"\nconfig wireguard_wg0\n\toption public_key '{PEER_B}'\n"
                    "\toption allowed_ips '10.0.0.3/32 10.0.1.0/24'\n"
                    "\toption endpoint_host '[fd00::9]'\n\toption endpoint_port '4500'\n")
    conf = load(text)
    assert conf.errors == [] and conf.peer_errors == []
    assert (conf.listen_port, conf.mtu, conf.fwmark, conf.nohostroute) == (51820, 1420, 0x1234,
                                                                          True)
    assert [str(a) for a in conf.addresses] == ["10.0.0.1/24", "fd00::1/128"]
    office, anonymous = conf.peers  # the disabled one is left out
    assert (office.description, office.endpoint_port, office.persistent_keepalive) == \
        ("Office", 51820, 25)
    assert office.route_allowed_ips and office.endpoint_host == "vpn.example.net"
    assert anonymous.section == "@wireguard_wg0[2]"
    assert [str(n) for n in anonymous.allowed_ips] == ["10.0.0.3/32", "10.0.1.0/24"]
    assert (anonymous.endpoint_host, anonymous.endpoint_port) == ("fd00::9", 4500)


IFACE_ERRORS = [
    ("\toption private_key 'not-a-key'\n", "private_key", "not a WireGuard key"),
    ("\toption listen_port '70000'\n", "listen_port", "out of range"),
    ("\toption listen_port 'fast'\n", "listen_port", "not a number"),
    ("\tlist addresses '10.0.0.1/33'\n", "addresses", "not an IP address"),
    ("\toption mtu '20'\n", "mtu", "out of range"),
    ("\toption nohostroute 'maybe'\n", "nohostroute", "not a boolean"),
    ("\toption fwmark '0xfffffffff'\n", "fwmark", "out of range"),
]

PEER_ERRORS = [
    ("\tlist allowed_ips '10.0.0.300/32'\n", "allowed_ips", "not a valid CIDR"),
    ("\toption route_allowed_ips 'sometimes'\n", "route_allowed_ips", "not a boolean"),
    ("\toption endpoint_port '0'\n", "endpoint_port", "out of range"),
    ("\toption endpoint_host 'bad host!'\n", "endpoint_host", "not a hostname"),
    ("\toption persistent_keepalive '-1'\n", "persistent_keepalive", "out of range"),
    ("\toption preshared_key 'short'\n", "preshared_key", "not a WireGuard key"),
]


@pytest.mark.parametrize("extra, option, message", IFACE_ERRORS)
def test_interface_errors_name_file_section_option(extra, option, message):
    conf = load(config(extra))
    [error] = conf.errors
    assert (error.path, error.section, error.option) == (PATH, "wg0", option)
    assert message in str(error) and f"{PATH} line " in str(error)


@pytest.mark.parametrize("extra, option, message", PEER_ERRORS)
def test_a_bad_peer_is_skipped_and_the_rest_stay(extra, option, message):
    conf = load(config(peers=peer("bad", PEER_A, extra) + peer("good", PEER_B)))
    assert conf.errors == []
    [error] = conf.peer_errors
    assert (error.section, error.option) == ("bad", option) and message in str(error)
    assert [p.section for p in conf.peers] == ["good"]


def test_duplicate_and_own_public_keys():
    own = keys.public_key(PRIVATE)
    conf = load(config(peers=peer("a", PEER_A) + peer("b", PEER_A) + peer("me", own)))
    assert [p.section for p in conf.peers] == ["a"]
    dup, me = conf.peer_errors
    assert (dup.section, dup.option) == ("b", "public_key") and "peer 'a'" in dup.message
    assert (me.section, me.option) == ("me", "public_key")


def test_missing_public_key():
    conf = load(config(peers="\nconfig wireguard_wg0 'x'\n\toption description 'no key'\n"))
    assert [(e.section, e.option) for e in conf.peer_errors] == [("x", "public_key")]


def test_generate_and_other_protos():
    text = ("\nconfig interface 'wg0'\n\toption proto 'wgpy'\n\toption private_key 'generate'\n"
            "\nconfig interface 'wg1'\n\toption proto 'wireguard'\n")
    confs = schema.interfaces(syntax.parse(text, "network"), PATH)
    assert list(confs) == ["wg0"] and confs["wg0"].generate_key


# ---- through the command: one message, nothing written ----

@pytest.mark.parametrize("extra, option, message", IFACE_ERRORS[:3])
def test_up_refuses_and_leaves_the_file_alone(tmp_path, capsys, extra, option, message):
    path = tmp_path / "network"
    text = config(extra, peer("a", PEER_A))
    path.write_text(text)
    before = path.stat().st_mtime_ns
    assert cli.main(["-c", str(tmp_path), "up", "wg0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path} line" in err and "section 'wg0'" in err and f"option '{option}'" in err
    assert path.read_bytes() == text.encode() and path.stat().st_mtime_ns == before


def test_unreadable_file_is_reported_with_its_line(tmp_path, capsys):
    (tmp_path / "network").write_text("config interface 'wg0'\n\toption proto 'wgpy\n")
    assert cli.main(["-c", str(tmp_path), "up", "wg0"]) == 1
    assert f"{tmp_path}/network line 2: parse error" in capsys.readouterr().err


def test_keys_must_be_in_canonical_base64():
    """`wg` refuses a key whose last character carries stray low bits; so do we."""
    from wgpy.keys import is_key
    assert is_key("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=")
    assert not is_key("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dh=")
    assert not is_key("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg")
