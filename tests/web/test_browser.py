"""The page in real headless Chromium (Debian's, driven by Playwright) against a real
router: wgpyd brought up by `wgpy up` in a namespace, `wgpy web` beside it. One module-
scoped router; the tests run in file order like a user's session:

1. log in; the overview shows the interface and a peer whose description is hostile
   markup, as text (no element, no dialog);
2. inline validation stops a bad key before anything is sent;
3. the wizard adds a device: the QR code (screenshot -> zbarimg) decodes to exactly the
   shown config and the downloaded .conf;
4. that .conf brings up wireguard-go in another namespace, and the overview shows the
   peer's handshake; adding another device keeps that session (no new handshake);
5. the QR encoder round-trips through zbarimg at every version.
Screenshots of the overview and the wizard are taken every run; with WGPY_SCREENSHOTS=1 they
are written to docs/ (the README's pictures), otherwise to the build directory, so a test run
does not change tracked files.
"""

import os
import random
import re
import subprocess

import pytest

from support.netns import free_port
from support.procs import wait_for
from webdata import PASSWORD
from weblab import CHROMIUM_ARGS, Lab
from wgpy.web import auth

pytestmark = [pytest.mark.netns, pytest.mark.browser,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]

_ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DOCS = os.path.join(_ROOT, "docs" if os.environ.get("WGPY_SCREENSHOTS") == "1" else "build")
os.makedirs(DOCS, exist_ok=True)

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
NETWORK = """
config interface 'lan'
\toption proto 'static'
\toption ipaddr '192.168.7.1'
\toption netmask '255.255.255.0'

config interface '{ifname}'
\toption proto 'wgpy'
\toption private_key 'generate'
\toption listen_port '{port}'
\tlist addresses '10.99.0.1/24'
\tlist addresses 'fd99::1/64'

config wireguard_{ifname} 'hostile'
\toption description '{hostile}'
\toption public_key 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
\tlist allowed_ips '10.99.0.50/32'
"""


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("router")
    lab = Lab(tmp)
    confdir = tmp / "config"
    confdir.mkdir()
    (confdir / "system").write_text("\nconfig system\n\toption hostname 'OpenWrt'\n")
    port = 51000 + random.randrange(900)
    (confdir / "network").write_text(NETWORK.format(
        ifname=lab.ifname, port=port, hostile=HOSTILE.replace("'", "'\\''")))
    (tmp / "web.passwd").write_text(auth.hash_password(PASSWORD))
    try:
        lab.setup()
        lab.router_up(confdir)
        web_port = free_port()
        lab.start_web(confdir, web_port, tmp / "web.passwd")
        yield lab, f"http://127.0.0.1:{web_port}/", tmp
    finally:
        lab.close()


@pytest.fixture(scope="module")
def page(router):
    from playwright.sync_api import sync_playwright
    lab, url, tmp = router
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=lab.chromium_wrapper(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900},
                                      device_scale_factor=2, accept_downloads=True)
        pg = context.new_page()
        pg.dialogs = []
        pg.errors = []
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.goto(url)
        yield pg
        browser.close()


def decode_qr(page, selector, path) -> str:
    page.locator(selector).screenshot(path=str(path))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True)
    assert out.returncode == 0, f"zbarimg could not read {path}"
    return out.stdout.decode()


def test_login_and_hostile_description(page, router):
    lab = router[0]
    page.fill("#login-password", "wrong password")
    page.click("#login-submit")
    page.wait_for_selector("#login-message .error")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    row = page.locator(".peer-row").first
    row.wait_for()
    assert page.inner_text("#hostname") == "OpenWrt"
    assert page.locator(f"[data-interface='{lab.ifname}'] h3").inner_text().endswith("up")
    assert row.locator(".peer-name").inner_text() == HOSTILE
    assert page.locator("#status img, #status script").count() == 0
    page.click("#tab-peers")
    page.wait_for_selector("#peer-table")
    assert page.locator("#peer-table .peer-name").first.inner_text() == HOSTILE
    assert page.locator("#peers img, #peers script").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_inline_validation_blocks_bad_input(page, router):
    page.click("#tab-peers")
    page.click("#peer-add")
    assert re.match(r"10\.99\.0\.2/32, fd99::2/128", page.input_value("#peer-allowed_ips"))
    page.fill("#peer-public_key", "not a key")
    page.fill("#peer-allowed_ips", "10.99.0.300/32")
    page.fill("#peer-endpoint_port", "70000")
    for field in ("public_key", "allowed_ips", "endpoint_port"):
        assert "cbi-input-invalid" in page.get_attribute(f"#peer-{field}", "class")
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method != "GET" else None)
    page.click("#peer-save")
    page.wait_for_timeout(500)
    assert sent == [], "an invalid peer was sent to the server"
    page.click("#peer-genkey")
    page.wait_for_selector("#peer-generated-private")
    assert "cbi-input-invalid" not in page.get_attribute("#peer-public_key", "class")


def test_wizard_qr_download_and_handshake(page, router):
    lab, _, tmp = router
    page.click("#tab-wizard")
    page.fill("#wizard-description", "Test laptop")
    page.check("#wizard-tunnel-split")
    page.fill("#wizard-endpoint_host", "10.55.0.1")
    page.click("#wizard-create")
    page.wait_for_selector("#wizard-qr svg")
    shown = page.inner_text("#wizard-conf")
    assert "Endpoint = 10.55.0.1:" in shown and "PrivateKey = " in shown
    with page.expect_download() as download:
        page.click("#wizard-download")
    conf_path = tmp / "Test-laptop.conf"
    download.value.save_as(conf_path)
    assert download.value.suggested_filename == "Test-laptop.conf"
    assert conf_path.read_text() == shown.rstrip("\n") + "\n"
    assert decode_qr(page, "#wizard-qr svg", tmp / "qr.png").rstrip("\n") == shown.rstrip("\n")
    page.screenshot(path=os.path.join(DOCS, "webui-wizard.png"), full_page=True)

    lab.client_up(conf_path)
    wait_for(lambda: lab.ping_router("10.99.0.1"), "a ping through the tunnel", timeout=20)
    page.click("#wizard-done")
    row = page.locator(".peer-row", has_text="Test laptop")
    row.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.peer-row')].some(r => r.textContent.includes("
        "'Test laptop') && / s ago/.test(r.querySelector('.handshake').textContent))",
        timeout=20000)
    assert row.locator(".badge").inner_text() == "connected"
    # some traffic for the graph over the next polls (the ping stops by itself)
    lab.spawn(lab.phone, "ping", "-q", "-c", "40", "-i", "0.2", "-s", "1200", "10.99.0.1",
              log="ping.log")
    page.wait_for_timeout(7000)
    page.screenshot(path=os.path.join(DOCS, "webui-overview.png"), full_page=True)


def test_adding_a_peer_keeps_other_sessions(page, router):
    """A second device goes in live; the first one's session is not disturbed."""
    lab = router[0]
    from wgpy.uapi import client as uapi
    before = {p["public_key"]: p for p in uapi.get(lab.ifname)["peers"]}
    handshakes = {k: p.get("last_handshake_time_sec", 0) for k, p in before.items()}
    page.click("#tab-wizard")
    page.fill("#wizard-description", "Second phone")
    page.fill("#wizard-endpoint_host", "10.55.0.1")
    page.click("#wizard-create")
    page.wait_for_selector("#wizard-qr svg")
    after = {p["public_key"]: p for p in uapi.get(lab.ifname)["peers"]}
    assert len(after) == len(before) + 1
    for key, stamp in handshakes.items():
        assert after[key].get("last_handshake_time_sec", 0) == stamp
    assert lab.ping_router("10.99.0.1")  # the old session still carries traffic
    now = {p["public_key"]: p.get("last_handshake_time_sec", 0)
           for p in uapi.get(lab.ifname)["peers"]}
    assert all(now[k] == stamp for k, stamp in handshakes.items())


def test_interface_settings_apply_live(page, router):
    lab = router[0]
    page.click("#tab-interface")
    page.fill("#iface-mtu", "99")
    assert "cbi-input-invalid" in page.get_attribute("#iface-mtu", "class")
    page.fill("#iface-mtu", "1400")
    page.click("#iface-save")
    page.wait_for_selector("#iface-message .info")
    link = lab.ns(lab.router, "ip", "link", "show", lab.ifname).stdout
    assert "mtu 1400" in link
    page.click("#tab-status")   # the overview shows the MTU in use and why (issue 19)
    page.wait_for_function(
        f"() => (document.querySelector('#mtu-{lab.ifname}') || {{}}).textContent"
        "?.startsWith('1400 (')", timeout=10000)
    page.click("#tab-import")
    page.wait_for_selector("#import-form")
    assert page.errors == []


def test_qr_encoder_every_version(page, router):
    tmp = router[2]
    page.click("#tab-status")
    lengths = [1, 20, 60, 120, 200, 300, 500, 800, 1200, 1700, 2300]
    for n in lengths:
        text = "".join(chr(33 + (i * 7) % 90) for i in range(n))
        page.evaluate("""t => { const box = document.createElement('div');
            box.id = 'qr-probe'; box.style.width = '600px'; box.style.background = '#fff';
            const old = document.getElementById('qr-probe'); if (old) old.remove();
            const svg = wgpy.qr.svg(t); svg.style.width = svg.style.height = '600px';
            box.appendChild(svg); document.body.appendChild(box); }""", text)
        assert decode_qr(page, "#qr-probe svg", tmp / f"probe{n}.png").rstrip("\n") == text
    assert page.evaluate("wgpy.qr.encode('x'.repeat(2300)).version") >= 39
