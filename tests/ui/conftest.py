"""One Debian chromium for the browser tests, driven by Playwright; real emulators on real ports.

The browser is the system's `/usr/bin/chromium` (`.ci/run` installs it), never one Playwright downloads, so the
tests run offline. Playwright's `launch` gives every run a fresh temporary profile. `dashboard.test` resolves to
127.0.0.1 inside this browser only, which is how a test reaches the emulator by a name, as behind `--public-url`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.sdk.live import LiveEmulator

CHROMIUM = "/usr/bin/chromium"
PUBLIC_NAME = "dashboard.test"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules=MAP {PUBLIC_NAME} 127.0.0.1",
]
# Screenshots of every page, kept for people reviewing a run (CI can upload the folder); gitignored.
ARTIFACTS = Path(os.environ.get("SEEDREAM_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while it is open,
# and the suite's asyncio tests cannot start theirs until it has closed. One module holds the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="instant") as live:
        yield live


@pytest.fixture
def live(server: LiveEmulator) -> LiveEmulator:
    """The module's emulator, as good as new: nothing in its journal, no jobs, no fault rules."""
    server.run(server.emulator.reset)
    return server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"the page raised: {errors}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
