"""The template editor in a real browser: write, save, preview as a contact on desktop and phone
widths, and check that a script inside the template never runs."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.content.models import Template
from tests.factories import PASSWORD, make_contact, make_user

HOSTILE_HTML = """<html><body>
<p id="greeting">Hi {{ contact.first_name | default("friend") }} from {{ contact.city }}</p>
<script>document.body.setAttribute("data-pwned", "script"); top.document.title = "pwned";</script>
<img src="x" onerror="document.body.setAttribute('data-pwned', 'onerror')">
<a href="javascript:document.body.setAttribute('data-pwned','link')" id="evil">click</a>
</body></html>"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_preview_as_a_contact_shows_their_data_and_runs_no_script(
    browser: Browser, live_server: Any
) -> None:
    user = make_user(Role.MARKETER)
    make_contact(email="mei@example.com", given_name="Mei", family_name="Chen", city="Taipei")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "sandboxed" in message.text
            else None
        ),
    )

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.btn-primary").click()
    page.locator(".nav a[href='/templates/']").click()
    page.get_by_role("link", name="New template").click()
    page.fill("#id_name", "Hostile")
    page.fill("#id_subject", "Hello {{ contact.first_name }}")
    page.fill("#id_html", HOSTILE_HTML)
    page.locator("#save-template").click()
    expect(page.locator(".flash")).to_contain_text("Template Hostile saved.")
    title = page.title()

    page.fill("#preview-as input[type=search]", "mei@")
    page.locator("#contact-choices a", has_text="mei@example.com").click()
    expect(page.locator("#preview-as")).to_contain_text("As mei@example.com")

    for frame_class, width in (("frame-desktop", 680), ("frame-phone", 375)):
        frame = page.frame_locator(f"iframe.{frame_class}")
        expect(frame.locator("#greeting")).to_have_text("Hi Mei from Taipei")
        frame.locator("#evil").click(force=True)
        box = page.locator(f"iframe.{frame_class}").bounding_box()
        assert box is not None and abs(box["width"] - width) <= 2
        assert frame.locator("body").get_attribute("data-pwned") is None
    assert page.title() == title
    assert Template.objects.get(name="Hostile").current is not None
    context.close()
