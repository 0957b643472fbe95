"""The suppression list in a real browser: found from the navigation, searched, an address
blocked and seen listed, then removed through the confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.delivery.models import Suppression, SuppressionReason
from tests.e2e.conftest import sign_in
from tests.factories import make_user


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_search_block_and_see_it_listed(browser: Browser, live_server: Any) -> None:
    Suppression.objects.create(email="old@shop.example.com", reason=SuppressionReason.HARD_BOUNCE)
    Suppression.objects.create(
        email="left@other.example.com", reason=SuppressionReason.UNSUBSCRIBED
    )
    user = make_user(Role.MARKETER)
    page = sign_in(browser, live_server.url, user.username)
    page.locator(".nav a[href='/contacts/suppressions/']").click()
    table = page.locator("#suppressions-table")
    expect(table).to_contain_text("left@other.example.com")

    page.fill("#suppressions-q", "@shop.example.com")
    page.locator("form[role=search] button[type=submit]").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("old@shop.example.com")

    page.fill("#suppression-email", "  Dee@Shop.Example.com ")
    page.fill("#suppression-note", "asked on the phone")
    page.locator("#suppression-add button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("dee@shop.example.com is blocked")
    row = table.locator("tr", has_text="dee@shop.example.com")
    expect(row).to_contain_text("Blocked by staff")
    expect(row).to_contain_text("asked on the phone")

    row.locator("summary", has_text="Remove").click()
    row.locator("input[name=why]").fill("wrong address")
    row.locator("button.btn-danger").click()
    expect(page.locator(".flash")).to_contain_text(
        "dee@shop.example.com is off the suppression list"
    )
    expect(table).not_to_contain_text("dee@shop.example.com")
    assert not Suppression.objects.filter(email="dee@shop.example.com").exists()
    page.context.close()
