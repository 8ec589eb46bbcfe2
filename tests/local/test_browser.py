"""A real browser: Debian's Chromium, driven by Playwright, chatting through ``wsgate local``.

A browser cannot set headers on a WebSocket handshake, so this is the test that proves the
query-string token and the authorizer-supplied API key work together. Without Chromium the tests
are skipped with that reason (``.ci/run`` installs it with apt); everything else still runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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


def _log_in(page: Page, url: str, user: str, room: str) -> None:
    page.goto(url)
    page.fill("#name", user)
    page.click("#connect")
    expect(page.locator("#status")).to_have_text(f"online as {user}")
    page.fill("#room", room)
    page.click("#join button[type=submit]")
    expect(page.locator("#log")).to_contain_text(f"you joined {room}")


def test_two_pages_chat_in_one_room(
    chat_stack: RunningStack, browser: Browser, tmp_path: Path
) -> None:
    url = chat_stack.facts["consoleUrl"]
    alice, bob = browser.new_page(), browser.new_page()
    _log_in(alice, url, "alice", "browsers")
    _log_in(bob, url, "bob", "browsers")
    expect(alice.locator("#log")).to_contain_text("bob joined browsers")

    alice.fill("#message", "hello from a real browser")
    alice.click("#send button[type=submit]")
    for page in (alice, bob):
        line = page.locator("#log li.message").last
        expect(line).to_contain_text("hello from a real browser")
        expect(line.locator(".from")).to_have_text("alice")

    # An empty message fails the route's model at the gateway: AWS's own error text.
    bob.fill("#message", "")
    bob.click("#send button[type=submit]")
    expect(bob.locator("#log li.error").last).to_have_text("Invalid request body")

    alice.screenshot(path=str(tmp_path / "alice.png"), full_page=True)
    bob.screenshot(path=str(tmp_path / "bob.png"), full_page=True)
    assert (tmp_path / "bob.png").stat().st_size > 0


def test_page_reconnects_after_the_server_drops_it(
    chat_stack: RunningStack, browser: Browser
) -> None:
    """The backend closing the socket (an @connections DELETE) is followed by a reconnect."""
    page = browser.new_page()
    _log_in(page, chat_stack.facts["consoleUrl"], "carol", "reconnects")
    table = chat_stack.table()
    (record,) = [item for item in table.scan()["Items"] if item.get("room") == "reconnects"]
    api = chat_stack.aws_client("apigatewaymanagementapi", "connectionsUrl")
    api.delete_connection(ConnectionId=record["connectionId"])
    expect(page.locator("#log")).to_contain_text("disconnected")
    expect(page.locator("#status")).to_have_text("online as carol")
    # The page re-joins its room on reconnect, so it is a member again.
    expect(page.locator("#log li.notice").last).to_contain_text("you joined reconnects")
