"""A real browser: Debian's Chromium, driven by Playwright, chatting through ``wsgate local``.

A browser cannot set headers on a WebSocket handshake, so this is the test that proves the
query-string token and the authorizer-supplied API key work together. Every page's uncaught
exceptions and console errors are collected and must be none. Without Chromium the tests
are skipped with that reason (``.ci/run`` installs it with apt); everything else still runs.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.local.conftest import RunningStack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not found (Debian: apt-get install chromium)"
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if CHROMIUM is not None:
    from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Pages:
    """New pages whose uncaught exceptions and console errors are collected, then asserted none."""

    browser: Browser
    url: str
    errors: list[str] = field(default_factory=list)
    opened: list[Page] = field(default_factory=list)

    def new(self) -> Page:
        page = self.browser.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        self.opened.append(page)
        page.goto(self.url)
        return page


@pytest.fixture
def pages(chat_stack: RunningStack, browser: Browser) -> Iterator[Pages]:
    collected = Pages(browser, chat_stack.facts["consoleUrl"])
    yield collected
    for page in collected.opened:
        page.close()
    assert collected.errors == []


def _connect(page: Page, user: str) -> None:
    page.fill("#name", user)
    page.click("#connect")
    expect(page.locator("#status")).to_have_text(f"online as {user}")


def _log_in(page: Page, user: str, room: str) -> None:
    _connect(page, user)
    page.fill("#room", room)
    page.click("#join-button")
    expect(page.locator("#log")).to_contain_text(f"you joined {room}")


def _say(page: Page, text: str) -> None:
    page.fill("#message", text)
    page.click("#send-button")


def test_two_pages_chat_with_members_notices_and_timestamps(pages: Pages, tmp_path: Path) -> None:
    alice, bob = pages.new(), pages.new()
    _log_in(alice, "alice", "browsers")
    _log_in(bob, "bob", "browsers")
    expect(alice.locator("#log")).to_contain_text("bob joined browsers")
    for page in (alice, bob):  # both see both, including the one who was there first
        expect(page.locator("#member-list")).to_contain_text("alice")
        expect(page.locator("#member-list")).to_contain_text("bob")
    expect(bob.locator("#members-title")).to_have_text("Members of browsers")

    _say(alice, "hello from a real browser")
    for page in (alice, bob):
        line = page.locator("#log li.message").last
        expect(line.locator(".text")).to_have_text("hello from a real browser")
        expect(line.locator(".from")).to_have_text("alice")
        expect(line.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))

    # An empty message fails the route's model at the gateway: AWS's own error text, not JSON.
    _say(bob, "")
    error = bob.locator("#log li.error").last
    expect(error.locator(".text")).to_have_text("Invalid request body")
    expect(error).to_have_attribute("title", re.compile(r"^request id \S+$"))

    alice.screenshot(path=str(tmp_path / "alice.png"), full_page=True)
    bob.click("#disconnect")
    expect(alice.locator("#log li.leave").last).to_have_text(
        re.compile(r"bob left browsers$"), timeout=20_000
    )
    expect(alice.locator("#member-list")).not_to_contain_text("bob")
    expect(bob.locator("#send-button")).to_be_disabled()
    assert (tmp_path / "alice.png").stat().st_size > 0


def test_controls_are_disabled_offline_and_nothing_throws(pages: Pages) -> None:
    page = pages.new()
    offline_disabled = ("#room", "#join-button", "#message", "#send-button", "#send-raw")
    for control in (*offline_disabled, "#disconnect"):
        expect(page.locator(control)).to_be_disabled()
    expect(page.locator("#connect")).to_be_enabled()
    expect(page.locator("#send")).to_be_visible()  # disabled, not hidden: it shows what comes
    expect(page.locator("#dev")).to_be_hidden()  # the [hidden] tab panel really is hidden
    # `hidden` wins over the stylesheet's display rules (.bar is display: flex).
    page.evaluate("document.getElementById('join').hidden = true")
    expect(page.locator("#join")).to_be_hidden()
    page.evaluate("document.getElementById('join').hidden = false")
    # Submitting anyway (Enter in a field, a script) must not reach a null socket.
    page.evaluate("document.getElementById('join').requestSubmit()")
    page.evaluate("document.getElementById('send').requestSubmit()")
    _connect(page, "frank")
    for control in offline_disabled:
        expect(page.locator(control)).to_be_enabled()
    expect(page.locator("#connect")).to_be_disabled()
    page.click("#disconnect")
    expect(page.locator("#status")).to_have_text("offline")
    for control in offline_disabled:
        expect(page.locator(control)).to_be_disabled()


def test_name_pattern_compiles_in_chromium(pages: Pages) -> None:
    """``pattern`` is compiled with the ``v`` flag; an invalid one is ignored (and logged).

    https://html.spec.whatwg.org/multipage/input.html#the-pattern-attribute
    """
    page = pages.new()
    mismatch = (
        "(value) => { const e = document.getElementById('name'); e.value = value; "
        "return e.validity.patternMismatch; }"
    )
    assert page.evaluate(mismatch, "not valid!") is True
    assert page.evaluate(mismatch, "alice_2-b") is False


def test_connect_twice_keeps_one_socket(pages: Pages, chat_stack: RunningStack) -> None:
    page = pages.new()
    page.evaluate(
        """() => { window.sockets = 0; const Native = window.WebSocket;
        window.WebSocket = class extends Native {
          constructor(...args) { super(...args); window.sockets += 1; } }; }"""
    )
    page.fill("#name", "gina")
    page.evaluate(
        "() => { const f = document.getElementById('login');"
        " f.requestSubmit(); f.requestSubmit(); }"
    )
    expect(page.locator("#status")).to_have_text("online as gina")
    page.fill("#room", "twice")
    page.click("#join-button")  # a round trip after both token requests have long finished
    expect(page.locator("#log")).to_contain_text("you joined twice")
    assert page.evaluate("window.sockets") == 1
    base = chat_stack.facts["connectionsUrl"].rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/_wsgate/connections", timeout=10) as reply:
        users = [c["user"] for c in json.loads(reply.read())["connections"]]
    assert users.count("gina") == 1


def test_panel_lists_both_users_streams_their_messages_and_kicks(pages: Pages) -> None:
    henry, iris = pages.new(), pages.new()
    _log_in(henry, "henry", "panel")
    _log_in(iris, "iris", "panel")
    _say(henry, "henry says hi")
    _say(iris, "iris says hi")
    expect(henry.locator("#log li.message")).to_have_count(2)

    henry.click("#tab-dev")
    expect(henry.locator("#chat")).to_be_hidden()
    events = henry.locator("#events")
    expect(events).to_contain_text('"message":"henry says hi"')
    expect(events).to_contain_text('"message":"iris says hi"')
    rows = henry.locator("#connections tbody tr")
    for user in ("henry", "iris"):
        row = rows.filter(has=henry.locator(f"td:text-is('{user}')"))
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(2)).to_have_text("panel")

    henry.fill("#raw-frame", '{"action":"sendmessage","message":"raw from the panel"}')
    henry.click("#send-raw")
    expect(iris.locator("#log li.message").last.locator(".text")).to_have_text("raw from the panel")

    iris_row = rows.filter(has=henry.locator("td:text-is('iris')"))
    iris_id = iris_row.get_attribute("data-connection-id")
    henry.fill("#push-data", '{"type":"message","from":"ops","message":"pushed by henry"}')
    iris_row.get_by_role("button", name="Push").click()
    expect(iris.locator("#log li.message").last.locator(".text")).to_have_text("pushed by henry")
    iris_row.get_by_role("button", name="Kick").click()
    expect(iris.locator("#log")).to_contain_text("disconnected (1000 Connection deleted)")
    expect(events.locator(f"li.kick[data-connection-id='{iris_id}']")).to_have_count(1)
    expect(events.locator(f"li.disconnect[data-connection-id='{iris_id}']")).to_have_count(1)
    # The page reconnects on its own and rejoins its room, as a client should after a drop.
    expect(iris.locator("#status")).to_have_text("online as iris")


def test_page_reconnects_after_the_server_drops_it(pages: Pages, chat_stack: RunningStack) -> None:
    """The backend closing the socket (an @connections DELETE) is followed by a reconnect."""
    page = pages.new()
    _log_in(page, "carol", "reconnects")
    table = chat_stack.table()
    (record,) = [item for item in table.scan()["Items"] if item.get("room") == "reconnects"]
    api = chat_stack.aws_client("apigatewaymanagementapi", "connectionsUrl")
    api.delete_connection(ConnectionId=record["connectionId"])
    expect(page.locator("#log")).to_contain_text("disconnected")
    expect(page.locator("#status")).to_have_text("online as carol")
    # The page re-joins its room on reconnect, so it is a member again.
    expect(page.locator("#log li.notice").last).to_contain_text("you joined reconnects")
