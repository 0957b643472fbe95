"""A campaign report in a real browser: its Plotly charts draw, with data, under the page's
Content-Security-Policy, and nothing is reported on the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from tests.analytics.fixture import make_spring, sent_yesterday
from tests.factories import PASSWORD, make_user


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_campaign_report_draws_its_charts(
    browser: Browser, live_server: Any, tmp_path: Path
) -> None:
    spring = make_spring()
    user = make_user(Role.VIEWER)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.text} at {m.location}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.btn-primary").click()
    page.goto(f"{live_server.url}/campaigns/{spring.campaign}/")
    page.locator("#campaign-report").click()

    hourly = page.locator("#chart-hourly.js-plotly-plot")
    expect(hourly).to_be_visible()
    expect(page.locator("#stat-open-rate")).to_have_text("71.4 %")
    # Three traces (opens, clicks, machine opens) with a drawn line each.
    assert page.evaluate("document.getElementById('chart-hourly').data.length") == 3
    opens = page.evaluate("document.getElementById('chart-hourly').data[0].y")
    assert sum(opens) == 5
    expect(hourly.locator(".scatterlayer .trace path.js-line").first).to_be_attached()
    devices = page.locator("#table-devices .js-plotly-plot")
    expect(devices).to_be_visible()
    expect(devices.locator(".barlayer .point").first).to_be_attached()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert problems == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_draws_its_charts(browser: Browser, live_server: Any, tmp_path: Path) -> None:
    cache.clear()  # the dashboard keeps its figures for a minute
    sent_yesterday("news", 30, 10)
    user = make_user(Role.ADMIN)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.btn-primary").click()

    for chart in ("#chart-daily", "#chart-growth", "#chart-heatmap"):
        expect(page.locator(f"{chart}.js-plotly-plot")).to_be_visible()
    assert (
        page.evaluate(
            "document.getElementById('chart-heatmap').data[0].customdata.reduce((a, b) => a + b)"
        )
        == 30
    )
    expect(page.locator("#dash-open-rate")).to_have_text("60.0 %")
    expect(page.locator("#best-campaigns")).to_contain_text("news")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert problems == []
