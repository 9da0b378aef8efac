"""The wizard's endpoint suggestion (issue #13 item 9): the report's router had no DDNS, no
dotted host name and a DHCP WAN, and the wizard suggested nothing and said nothing."""

from wgpy.web import reach


def test_order_public_before_private_and_names_first():
    hosts, note = reach.candidates(["home.example.net"], "router.example.org",
                                   ["192.168.0.10", "9.9.9.9"])
    assert hosts == ["home.example.net", "router.example.org", "9.9.9.9", "192.168.0.10"]
    assert note is None
    hosts, note = reach.candidates([], "OpenWrt", ["10.0.0.2", "8.8.8.8"])
    assert hosts == ["8.8.8.8", "10.0.0.2"] and note is None


def test_nothing_known_says_so():
    assert reach.candidates([], "OpenWrt", []) == ([], reach.NOTHING_KNOWN)


def test_private_or_shared_wan_address_says_so():
    for address in ("192.168.0.10", "100.64.1.2", "fd00::2"):
        hosts, note = reach.candidates([], "OpenWrt", [address])
        assert hosts == [address] and f"{address} is private" in note


def test_suggest_reads_the_live_wan_when_it_is_not_static(client, confdir, monkeypatch):
    monkeypatch.setattr(reach, "default_route_addresses", lambda: ["198.51.100.9", "8.8.4.4"])
    hint = client.call("suggest", {"interface": "wgwebapi0"})[1]
    assert hint["endpoint_hosts"] == ["8.8.4.4", "198.51.100.9"]
    assert hint["endpoint_note"] is None
    with open(confdir / "network", "a") as f:
        f.write("\nconfig interface 'wan'\n\toption proto 'static'\n"
                "\toption ipaddr '203.0.114.5/24'\n")
    hint = client.call("suggest", {"interface": "wgwebapi0"})[1]
    assert hint["endpoint_hosts"] == ["203.0.114.5"]  # UCI's static address wins
    monkeypatch.setattr(reach, "default_route_addresses", lambda: [])
    (confdir / "network").write_text((confdir / "network").read_text().split(
        "\nconfig interface 'wan'")[0])
    hint = client.call("suggest", {"interface": "wgwebapi0"})[1]
    assert (hint["endpoint_hosts"], hint["endpoint_note"]) == ([], reach.NOTHING_KNOWN)


def test_live_addresses_come_from_the_default_route():
    """On this machine: whatever it has, only global-scope addresses, no exception."""
    for address in reach.default_route_addresses():
        assert "/" not in address and not address.startswith("fe80")
