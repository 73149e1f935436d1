"""Chromium driven by Playwright against pytest-django's live server.

The browser is Debian's /usr/bin/chromium: Playwright never downloads one here. Without it the
browser tests skip on a developer's machine, and fail in CI (CI=1), where `.ci/run` installs it.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


# Module scope: the relaxed async check below ends with the browser tests, not the session.
@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django then refuses every
    # ORM call made here (SynchronousOnlyOperation). The test thread only sets up rows and reads
    # them back while the browser waits, so allow it for the browser tests alone.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1440, "height": 900},
        locale="en-US",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class LiveResponse:
    """What tests.twilio_signing and tests.whisper.steps read from a Django test response."""

    def __init__(self, status: int, content: bytes, headers: Message) -> None:
        self.status_code = status
        self.content = content
        self.headers = headers

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


class LiveClient:
    """Posts over real HTTP to the live server, with the Django test client's `post` signature,
    so TwilioPoster signs and sends webhook requests exactly as it does in the webhook tests."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, path: str, data: str, content_type: str, headers: dict[str, str]):
        request = urllib.request.Request(
            self.base + path,
            data=data.encode(),
            method="POST",
            headers={"Content-Type": content_type, **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return LiveResponse(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as error:
            return LiveResponse(error.code, error.read(), error.headers)
