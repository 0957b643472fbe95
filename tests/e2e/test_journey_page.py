"""A journey's page in a real browser: made from a recipe, its step tree indented by branch
under the strict CSP, switched on, and a contact's way through it counted on the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.automation.engine import tick
from rapport.automation.models import Journey
from rapport.content.models import Workspace
from tests.e2e.conftest import console_errors, sign_in
from tests.factories import make_contact, make_user

TEXT = {
    "en": {"journeys": "Journeys", "on": "On", "draft": "Draft"},
    "zh-hans": {"journeys": "自动化旅程", "on": "已开启", "draft": "草稿"},
}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_journey_from_a_recipe_shows_its_tree_and_counts(
    browser: Browser, live_server: Any, language: str
) -> None:
    text = TEXT[language]
    user = make_user(Role.MARKETER, language=language)
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    page = sign_in(browser, live_server.url, user.username)
    errors = console_errors(page)
    page.locator(".nav a[href='/journeys/']").click()
    expect(page.locator("h1")).to_have_text(text["journeys"])
    page.locator("#recipe-welcome").click()

    journey = Journey.objects.get()
    expect(page.locator("h1")).to_have_text(journey.name)
    expect(page.locator("#journey-state")).to_have_text(text["draft"])
    steps = page.locator("#journey-steps tbody tr[id^='step-']")
    expect(steps.first).to_be_visible()
    # The welcome recipe picks each email by language: the emails sit one branch deeper than
    # the condition that chooses, and the page shows that by indentation.
    indents = [
        float(cell.evaluate("td => getComputedStyle(td).paddingLeft").removesuffix("px"))
        for cell in page.locator("#journey-steps tbody tr[id^='step-'] td:first-child").all()
    ]
    assert len(set(indents)) >= 2, indents  # branches are indented
    assert min(indents) > 0

    page.locator("#enable-journey").click()
    expect(page.locator("#journey-state")).to_have_text(text["on"])
    make_contact(locale="en", timezone="UTC", consent_at=timezone.now())  # just subscribed
    tick(timezone.now() + dt.timedelta(seconds=1))
    page.reload()
    expect(page.locator("#count-active")).to_have_text("1")
    assert errors == []
