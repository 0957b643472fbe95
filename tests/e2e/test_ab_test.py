"""An A/B test set up, started and read in a real browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.campaigns.models import ABTest
from rapport.campaigns.services import create_campaign
from rapport.content.models import Workspace
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import PASSWORD, make_contact, make_user


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_set_up_start_and_read_an_ab_test(browser: Browser, live_server: Any,
                                          tmp_path: Path) -> None:  # fmt: skip
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name="Club", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=listing, contact=make_contact(email=f"m{n}@example.com"))
        for n in range(40)
    )
    campaign = create_campaign(name="March news", template="Newsletter (English)",
                               audience=["Club"], acting_user=None)  # fmt: skip
    user = make_user(Role.MARKETER)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.btn-primary").click()

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.fill("#id_test_share", "50")
    page.select_option("#id_metric", "open")
    page.fill("#id_subject_B", "Spring news for {{ contact.first_name }}")
    page.fill("#id_local_time_B", "18:00")
    page.locator("#save-ab-test").click()
    expect(page.locator(".flash")).to_contain_text("The A/B test is set up.")
    assert ABTest.objects.get(campaign=campaign).variants.count() == 2
    shot = os.environ.get("RAPPORT_SCREENSHOTS")
    if shot:
        page.screenshot(path=f"{shot}/ab-draft.png", full_page=True)

    page.locator("#start-campaign").click()
    expect(page.locator("#ab-state")).to_have_text("Testing")
    expect(page.locator("#ab-results tbody tr")).to_have_count(2)
    if shot:
        page.screenshot(path=f"{shot}/ab-testing.png", full_page=True)
    assert errors == [], errors
    context.close()
