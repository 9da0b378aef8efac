"""The page on a router as OpenWrt serves it: the REAL uhttpd serves /wgpy/ and /ubus, the
REAL rpcd logs root in against /etc/shadow and runs wgpy's exec plugin per call, behind the
package's ACL (rpcdrig.py); wgpyd runs the interface; no wgpy web, no `wgpy ubus`. Headless
Chromium (in the router's network namespace) logs in, adds a device with the wizard and
downloads its .conf, which brings up wireguard-go in another namespace (weblab.py's phone)
and completes a handshake: a ping through the tunnel, and the overview shows the peer.

      ns R: ubusd, rpcd, uhttpd (router-ns.sh's mount namespace), wgpyd, Chromium
      vR 10.55.0.1/24  <veth>  vC 10.55.0.2/24  ns C: wireguard-go
"""

import os
import random

import pytest

from support import owrt
from support.netns import free_port
from support.procs import wait_for
from weblab import CHROMIUM_ARGS, Lab

pytestmark = [pytest.mark.netns, pytest.mark.browser,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
              pytest.mark.skipif(owrt.skip_reason() is not None, reason=str(owrt.skip_reason()))]

import rpcdrig  # noqa: E402  (imports tests/router's helpers; after the skip markers)

WGPY = os.path.join(str(owrt.REPO), ".venv", "bin", "wgpy")
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
"""


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uhttpd-router")
    lab = Lab(tmp)
    box = None
    try:
        lab.setup()
        http = free_port()
        network = NETWORK.format(ifname=lab.ifname, port=51000 + random.randrange(900))
        box = rpcdrig.start(lab.router, tmp, network, http=f"127.0.0.1:{http}")
        # wgpyd inside the router's mount namespace: its UAPI socket in the router's own
        # /var/run, where the plugin (run by rpcd) looks for it
        box.exec(WGPY, "-c", "/etc/config", "up", lab.ifname)
        yield lab, box, f"http://127.0.0.1:{http}/wgpy/", tmp
    finally:
        if box is not None:
            box.stop()
        lab.close()


@pytest.fixture(scope="module")
def page(router):
    from playwright.sync_api import sync_playwright
    lab, _, url, _ = router
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=lab.chromium_wrapper(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900},
                                      accept_downloads=True)
        pg = context.new_page()
        pg.errors = []
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.on("dialog", lambda d: d.dismiss())
        pg.goto(url)
        yield pg
        browser.close()


def test_login_is_the_routers_root_login(page, router):
    page.fill("#login-password", "wrong password")
    page.click("#login-submit")
    page.wait_for_selector("#login-message .error")
    page.fill("#login-username", "root")
    page.fill("#login-password", rpcdrig.ROOT_PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#logout")
    lab = router[0]
    page.locator(f"[data-interface='{lab.ifname}'] h3").wait_for()
    assert page.inner_text("#hostname") == "owrtweb"
    assert page.locator(f"[data-interface='{lab.ifname}'] h3").inner_text().endswith("up")
    assert page.errors == []


def test_wizard_device_handshakes_through_the_downloaded_conf(page, router):
    lab, box, _, tmp = router
    page.click("#tab-wizard")
    page.fill("#wizard-description", "Router laptop")
    page.check("#wizard-tunnel-split")
    page.fill("#wizard-endpoint_host", "10.55.0.1")
    page.click("#wizard-create")
    page.wait_for_selector("#wizard-qr svg")
    shown = page.inner_text("#wizard-conf")
    with page.expect_download() as download:
        page.click("#wizard-download")
    conf_path = tmp / "Router-laptop.conf"
    download.value.save_as(conf_path)
    assert conf_path.read_text() == shown.rstrip("\n") + "\n"
    # written by the plugin through libuci: the real `uci` reads the new peer
    sections = box.exec("uci", "show", "network").stdout
    assert "description='Router laptop'" in sections

    lab.client_up(conf_path)
    wait_for(lambda: lab.ping_router("10.99.0.1"), "a ping through the tunnel", timeout=20)
    page.click("#wizard-done")
    row = page.locator(".peer-row", has_text="Router laptop")
    row.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.peer-row')].some(r => r.textContent.includes("
        "'Router laptop') && / s ago/.test(r.querySelector('.handshake').textContent))",
        timeout=20000)
    assert row.locator(".badge").inner_text() == "connected"
    assert page.errors == []


# What LuCI's view (package/wgpy/files/luci/view/wgpy/page.js) does, without LuCI: the page
# in a frame, handed the session by postMessage once the frame has loaded.
FRAMING = """<!DOCTYPE html><html><body>
<iframe id="wgpy" src="{src}" style="width:100%;height:600px"></iframe>
<script>
var frame = document.getElementById('wgpy');
frame.addEventListener('load', function () {{
  frame.contentWindow.postMessage({{ wgpySession: location.hash.slice(1) }}, '{target}');
}});
</script></body></html>"""


def test_a_frame_hands_over_its_session_as_lucis_view_does(page, router):
    lab, box, url, tmp = router
    origin = url.replace("/wgpy/", "")
    (tmp / "www" / "luci-like.html").write_text(
        FRAMING.format(src="/wgpy/index.html", target=origin))
    # another origin (localhost is not 127.0.0.1 to the browser) framing the page
    (tmp / "www" / "foreign.html").write_text(
        FRAMING.format(src=f"{origin}/wgpy/index.html", target="*"))
    sid = box.login("root", rpcdrig.ROOT_PASSWORD)
    other = page.context.browser.new_context()
    try:
        luci = other.new_page()
        luci.goto(f"{origin}/luci-like.html#{sid}")
        frame = luci.frame_locator("#wgpy")
        frame.locator("#logout").wait_for()
        frame.locator(f"[data-interface='{lab.ifname}'] h3").wait_for()
        foreign = other.new_page()
        foreign.goto(f"{origin.replace('127.0.0.1', 'localhost')}/foreign.html#{sid}")
        frame = foreign.frame_locator("#wgpy")
        frame.locator("#login-form").wait_for()
        foreign.wait_for_timeout(2000)  # the message has long arrived: it was ignored
        assert frame.locator("#logout").count() == 0
    finally:
        other.close()


def test_logout_ends_the_rpcd_session(page, router):
    box = router[1]
    sid = page.evaluate("sessionStorage.getItem('wgpy_sid')")
    assert box.rpc(sid, "wgpy", "status")["result"][0] == 0
    page.click("#logout")
    page.wait_for_selector("#login-form")
    assert page.evaluate("sessionStorage.getItem('wgpy_sid')") is None
    assert box.rpc(sid, "wgpy", "status")["error"] == rpcdrig.DENIED  # rpcd destroyed it
