"""Browser fixtures: Debian's Chromium driven by Playwright's sync API.

Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls
from a thread with a running loop unless told they are safe; here they are (one test thread).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.factories import PASSWORD
from tests.web.messages import compile_catalogues

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    compile_catalogues()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _static_root(settings: pytest.FixtureRequest) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]


def sign_in(browser: Browser, base_url: str, username: str) -> Page:
    """A new wide page, signed in as ``username`` (made with the factories' password)."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.btn-primary").click()
    return page


def console_errors(page: Page) -> list[str]:
    """The errors the page's console reports from now on, each after the page's address: a
    Content-Security-Policy violation shows nowhere else."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
        ),
    )
    return errors
