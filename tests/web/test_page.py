"""What a user of the page meets (issue #13 items 5 and 9), in headless Chromium against the
server running in-process on 127.0.0.1 (no interface runs; nothing leaves loopback):
the first-start setup asks for the code from the log; a save refused as a conflict tells the
user and reloads what is stored; a peer with a config error is named and shows its message; a bad
stored endpoint is shown whole and marked; the wizard says where its endpoint comes from.
"""

import json
import threading

import pytest

from webdata import PASSWORD
from wgpy.uci.store import Store
from wgpy.web import auth, cli, jsonrpc, methods, reach, server

pytestmark = [pytest.mark.browser]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE_ENDPOINT = "<img src=x onerror=alert(1)>"
EXTRA_PEERS = """
config wireguard_wgwebapi0 'broken'
\toption public_key 'not-a-key'
\tlist allowed_ips '10.99.0.60/32'

config wireguard_wgwebapi0 'imported'
\toption description 'Imported'
\toption public_key 'yTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
\tlist allowed_ips '10.99.0.61/32'
\toption endpoint_host '{endpoint}'
\toption endpoint_port '51820'
""".format(endpoint=HOSTILE_ENDPOINT)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def endpoint(confdir, passwords, **kw):
    return jsonrpc.Endpoint(methods.Context(store=Store(str(confdir))), passwords, **kw)


def refuse_as_conflict(page, method, message):
    """The server's answer to the page's next `wgpy METHOD` call: a conflict, as when
    another tab saved first; every other call goes through."""
    def handle(route):
        request = json.loads(route.request.post_data or "{}")
        if request.get("params", [None, None, None])[2] != method:
            return route.continue_()
        route.fulfill(status=200, content_type="application/json", body=json.dumps(
            {"jsonrpc": "2.0", "id": request["id"], "result": [0, methods.refusal(
                methods.CONFLICT, message, revision="0")]}))
    page.route("**/ubus", handle)


def serve(app):
    httpd = server.Server(("127.0.0.1", 0), app, cli.default_webroot())
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return httpd


@pytest.fixture
def site(confdir, tmp_path, password_hash, monkeypatch):
    """-> (url, confdir) of a server with the wgpy password set and two odd peers."""
    monkeypatch.setattr(reach, "default_route_addresses", lambda: [])
    with open(confdir / "network", "a") as f:
        f.write(EXTRA_PEERS)
    (tmp_path / "web.passwd").write_text(password_hash)
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    httpd = serve(endpoint(confdir, passwords))
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", confdir
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("dialog", lambda d: d.accept())
    yield pg
    context.close()


def log_in(page, url):
    page.goto(url)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#logout")


def test_setup_asks_for_the_code_from_the_log(browser, page, confdir, tmp_path):
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    httpd = serve(endpoint(confdir, passwords, setup_code="0123456789ab"))
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/")
        page.fill("#login-setup-code", "guessed")
        page.fill("#login-password", "an attacker's password")
        page.click("#login-submit")
        page.wait_for_selector("#login-message .error")
        assert "setup code" in page.inner_text("#login-message")
        assert passwords.source() is None
        page.fill("#login-setup-code", "0123456789AB")
        page.fill("#login-password", "the owner's password")
        page.click("#login-submit")
        page.wait_for_selector("#logout")
        assert passwords.verify("the owner's password")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert page.errors == []


def test_without_a_code_the_page_says_to_run_wgpy_passwd(page, confdir, tmp_path):
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    httpd = serve(endpoint(confdir, passwords))
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/")
        page.wait_for_selector("#login-form")
        assert "wgpy passwd" in page.inner_text("#login-form")
        assert page.locator("#login-password").count() == 0
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_peer_with_config_error_is_named_and_shows_its_message(page, site):
    url, _ = site
    log_in(page, url)
    row = page.locator(".peer-row", has_text="broken")
    row.wait_for()
    text = row.inner_text()
    assert "Untitled peer" not in page.inner_text("#status")
    assert "peer broken" in text and "config error" in text
    assert "option public_key" in row.locator(".peer-errors").inner_text()
    assert page.errors == []


def test_bad_stored_endpoint_is_shown_whole_and_marked(page, site):
    url, _ = site
    log_in(page, url)
    page.click("#tab-peers")
    row = page.locator("#peer-table tr", has_text="Imported")
    row.wait_for()
    cell = row.locator(".invalid-value")
    assert HOSTILE_ENDPOINT in cell.inner_text() and "invalid endpoint" in cell.inner_text()
    assert "<img:" not in page.inner_text("#peers")
    assert page.locator("#peers img, #status img").count() == 0
    assert page.locator("#peer-table tr", has_text="peer broken").count() == 1
    assert page.errors == []


def test_save_refused_as_a_conflict_tells_and_reloads_the_peer(page, site):
    url, confdir = site
    log_in(page, url)
    page.click("#tab-peers")
    page.locator("#peer-table tr", has_text="Phone").get_by_role("button", name="Edit").click()
    page.fill("#peer-description", "My edit")
    # another tab saved first: the stored peer changed, and the server refuses the stale save
    text = (confdir / "network").read_text()
    (confdir / "network").write_text(text.replace("'Phone'", "'Changed elsewhere'"))
    refuse_as_conflict(page, "peer_set", "peer 'phone' was changed since it was loaded")
    page.click("#peer-save")
    page.wait_for_selector("#conflict-notice")
    assert "changed elsewhere" in page.inner_text("#conflict-notice")
    assert "was changed since it was loaded" in page.inner_text("#conflict-notice")
    assert page.input_value("#peer-description") == "Changed elsewhere"
    assert "Changed elsewhere" in page.inner_text("#peers h3")
    assert page.errors == []


def test_any_conflict_reloads_the_view(page, site):
    url, confdir = site
    log_in(page, url)
    page.click("#tab-interface")
    page.wait_for_selector("#iface-form")
    page.fill("#iface-mtu", "1400")
    text = (confdir / "network").read_text()
    (confdir / "network").write_text(text.replace("'51999'", "'51777'"))
    refuse_as_conflict(page, "interface_set", "stale")
    page.click("#iface-save")
    page.wait_for_selector("#conflict-notice")
    assert page.input_value("#iface-listen_port") == "51777"
    assert page.input_value("#iface-mtu") == ""
    assert page.errors == []


def test_wizard_says_when_it_knows_no_endpoint(page, site):
    url, _ = site
    log_in(page, url)
    page.click("#tab-wizard")
    page.wait_for_selector("#wizard-form")
    assert page.input_value("#wizard-endpoint_host") == ""
    assert page.inner_text("#wizard-endpoint-note") == reach.NOTHING_KNOWN


def test_wizard_suggests_the_live_wan_address(page, site, monkeypatch):
    url, _ = site
    monkeypatch.setattr(reach, "default_route_addresses", lambda: ["100.64.3.4", "2001:db8::7"])
    log_in(page, url)
    page.click("#tab-wizard")
    page.wait_for_selector("#wizard-form")
    # 2001:db8::/32 is documentation space, not global: both are private, in order
    assert page.input_value("#wizard-endpoint_host") == "100.64.3.4"
    assert "100.64.3.4 is private" in page.inner_text("#wizard-endpoint-note")
    monkeypatch.setattr(reach, "default_route_addresses", lambda: ["198.51.100.1", "8.8.4.4"])
    page.click("#tab-status")
    page.click("#tab-wizard")
    page.wait_for_selector("#wizard-form")
    assert page.input_value("#wizard-endpoint_host") == "8.8.4.4"
    assert page.locator("#wizard-endpoint-note").count() == 0
