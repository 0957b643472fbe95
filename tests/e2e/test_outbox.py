"""The outbox in a real browser: a message caught over SMTP opens from the navigation, its HTML
part renders in the sandboxed frame, and a script inside it never runs."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.delivery.mailcatcher import make_controller
from tests.e2e.conftest import sign_in
from tests.factories import make_user
from tools.with_postgres import free_port

HOSTILE_HTML = """<html><body>
<p id="greeting">Spring sale for Mei</p>
<script>document.body.setAttribute("data-pwned", "script"); top.document.title = "pwned";</script>
<img src="x" onerror="document.body.setAttribute('data-pwned', 'onerror')">
</body></html>"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_caught_message_renders_in_the_sandbox_and_runs_no_script(
    browser: Browser, live_server: Any
) -> None:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "mei@example.com"
    message["Subject"] = "Spring sale"
    message.set_content("Spring sale for Mei")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
    finally:
        controller.stop()

    user = make_user(Role.VIEWER)
    page = sign_in(browser, live_server.url, user.username)
    page.locator(".nav a[href='/outbox/']").click()
    page.get_by_role("link", name="Spring sale").click()
    title = page.title()

    frame = page.frame_locator("#message-html iframe")
    expect(frame.locator("#greeting")).to_have_text("Spring sale for Mei")
    assert frame.locator("body").get_attribute("data-pwned") is None
    assert page.title() == title == "Spring sale · Rapport"
    page.context.close()
