"""The segment builder in a real browser: pick a field, watch the count, add a condition, save.

Screenshots of the builder in both languages go to ``RAPPORT_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.segments.models import Segment
from tests.e2e.conftest import console_errors, sign_in
from tests.factories import make_contact, make_user

TEXT = {
    "en": {
        "segments": "Segments",
        "new": "New segment",
        "saved": "Segment Chinese in Beijing saved.",
    },
    "zh-hans": {
        "segments": "客户分群",
        "new": "新建分群",
        "saved": "分群“Chinese in Beijing”已保存。",
    },
}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_build_a_segment_watch_the_count_and_save_it(
    browser: Browser, live_server: Any, language: str
) -> None:
    text = TEXT[language]
    user = make_user(Role.MARKETER, language=language)
    for city in ("Beijing", "Shanghai", "Shanghai"):
        make_contact(country="CN", city=city)
    for _ in range(2):
        make_contact(country="GB", city="London")
    page = sign_in(browser, live_server.url, user.username)
    errors = console_errors(page)
    page.locator(".nav a[href='/segments/']").click()
    expect(page.locator("h1")).to_have_text(text["segments"])
    page.get_by_role("link", name=text["new"]).click()
    expect(page.locator("h1")).to_have_text(text["new"])

    page.select_option("#id_g0r0-field", "country")
    _settled(page)
    page.select_option("#id_g0r0-op", "eq")
    _settled(page)
    page.locator("#id_g0r0-value").fill("CN")
    expect(page.locator("#match-count")).to_have_text("3")

    page.locator("#add-row-0").click()
    _settled(page)
    page.select_option("#id_g0r1-field", "city")
    _settled(page)
    page.locator("#id_g0r1-value").fill("Beijing")
    expect(page.locator("#match-count")).to_have_text("1")
    expect(page.locator("#match-sample li")).to_have_count(1)
    _screenshot(page, f"segment-builder-{language}.png")

    page.fill("#id_name", "Chinese in Beijing")
    page.locator("#save-segment").click()
    expect(page.locator(".flash")).to_contain_text(text["saved"])
    segment = Segment.objects.get(name="Chinese in Beijing")
    assert segment.rules == {
        "all": [
            {"field": "country", "op": "eq", "value": "CN"},
            {"field": "city", "op": "eq", "value": "Beijing"},
        ]
    }
    page.locator(".nav a[href='/segments/']").click()
    row = page.locator("#segments-table tr", has_text="Chinese in Beijing")
    expect(row.locator("td.num")).to_have_text("1")
    _screenshot(page, f"segment-list-{language}.png")
    assert errors == [], errors  # no CSP violations, no failed scripts
    page.context.close()


def _settled(page: Any) -> None:
    """Wait until htmx has swapped and processed the builder: a change made before htmx has
    bound the new inputs would go unseen, as it would for a person faster than 20 ms."""
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    expect(busy).to_have_count(0)


def _screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("RAPPORT_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)
