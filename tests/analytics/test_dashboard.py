"""The dashboard's figures against hand counts of the fixture, the heatmap's best window and
the button that makes it the workspace's default."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.analytics.dashboard import overview, suggest_window
from rapport.analytics.models import LocalOpenHour
from rapport.content.models import Workspace
from rapport.crm.models import Contact, Event, EventType
from tests.analytics.fixture import T0, make_spring, sent_yesterday

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(days=2)


def test_daily_series_and_totals_match_the_hand_count() -> None:
    spring = make_spring()
    Contact.objects.filter(pk__in=spring.contacts[:3]).update(consent_at=T0 - dt.timedelta(days=1))

    view = overview(30, now=NOW)

    days = {d.day: d for d in view.series}
    tue, wed, mon = T0.date(), T0.date() + dt.timedelta(days=1), T0.date() - dt.timedelta(days=1)
    assert (days[tue].sent, days[tue].openers, days[tue].clickers) == (8, 4, 2)
    assert (days[wed].sent, days[wed].openers, days[wed].clickers) == (0, 1, 1)
    assert (days[tue].orders, days[wed].orders) == (0, 3)
    assert (days[tue].gained, days[tue].lost, days[mon].gained) == (0, 2, 3)
    assert days[mon].growth == 3 and days[tue].growth == -2
    assert len(view.series) == 30 and view.series[-1].day == NOW.date()
    assert (view.totals.counts.sent, view.totals.counts.delivered) == (9, 7)
    assert view.totals.open_rate == pytest.approx(5 / 7)
    assert view.best == [] and view.worst == []  # 7 delivered: too few to judge


def test_the_heatmap_counts_first_opens_in_each_contacts_local_time() -> None:
    make_spring()

    grid = overview(30, now=NOW).heatmap

    # c0 lives in Shanghai: 10:10 UTC on Tuesday is 18:10 there; the others have no timezone
    # (the workspace's, UTC).
    found = {(day, hour): n for day, row in enumerate(grid) for hour, n in enumerate(row) if n}
    assert found == {(1, 18): 1, (1, 10): 1, (1, 12): 1, (1, 14): 1, (2, 11): 1}


def test_the_best_window_needs_enough_opens_and_avoids_quiet_hours() -> None:
    grid = [[0] * 24 for _ in range(7)]
    for day in (1, 2, 3):
        for hour in (9, 10, 11):
            grid[day][hour] = 22
    assert suggest_window(grid=grid) is None  # 198 first opens: too few to judge

    grid[0][10] = 3
    grid[5][22] = 150  # Saturday night: quiet hours, never in a window
    suggestion = suggest_window(grid=grid)

    assert suggestion is not None
    assert suggestion.days == (1, 2, 3)
    assert (suggestion.start, suggestion.end) == (dt.time(8), dt.time(12))
    assert suggestion.openers == 22 * 9 + 150 + 3
    assert suggestion.share == pytest.approx(22 * 9 / (22 * 9 + 153))


def _seed_heatmap(day: dt.date) -> None:
    LocalOpenHour.objects.bulk_create(
        LocalOpenHour(day=day, weekday=weekday, hour=hour, openers=30)
        for weekday in (0, 1, 2)
        for hour in (14, 15, 16)
    )


def test_use_this_window_sets_the_workspace_default(client_for: Callable[[str], Client]) -> None:
    _seed_heatmap(timezone.now().date())
    admin = client_for(Role.ADMIN)

    page = admin.get("/").content.decode()
    response = admin.post("/dashboard/use-window")

    assert 'id="use-window"' in page
    assert response.status_code == 302
    workspace = Workspace.current()
    assert workspace.window_days == [0, 1, 2]
    assert (workspace.window_start, workspace.window_end) == (dt.time(13), dt.time(17))
    assert AuditEntry.objects.filter(action="workspace.window_from_opens").count() == 1


def test_only_sending_managers_may_change_the_window(client_for: Callable[[str], Client]) -> None:
    _seed_heatmap(timezone.now().date())
    marketer = client_for(Role.MARKETER)

    assert 'id="use-window"' not in marketer.get("/").content.decode()
    assert marketer.post("/dashboard/use-window").status_code == 403
    assert Workspace.current().window_days == []


def test_without_enough_opens_the_button_says_why(client_for: Callable[[str], Client]) -> None:
    response = client_for(Role.ADMIN).post("/dashboard/use-window", follow=True)

    assert "not enough opens" in response.content.decode()
    assert Workspace.current().window_days == []


def test_best_and_worst_campaigns_by_click_rate(client_for: Callable[[str], Client]) -> None:
    good, fair, poor = (
        sent_yesterday("good", 30, 10),
        sent_yesterday("fair", 20, 5),
        sent_yesterday("poor", 10, 0),
    )

    view = overview(30)

    assert [r.campaign_id for r in view.best] == [good, fair, poor]
    assert view.worst == []  # three campaigns all fit among the best five
    assert view.best[0].metrics.click_rate == pytest.approx(10 / 50)
    page = client_for(Role.VIEWER).get("/?days=90").content.decode()
    assert f"/campaigns/{good}/report/" in page
    assert Event.objects.filter(type=EventType.CLICKED).count() == 15


def test_the_overview_costs_the_same_queries_for_one_campaign_or_many(
    django_assert_num_queries: Any,
) -> None:
    sent_yesterday("one", 5, 1)
    overview(30)  # takes the delivery snapshots once
    with CaptureQueriesContext(connection) as one:
        overview(30)
    sent_yesterday("two", 5, 1)
    sent_yesterday("three", 5, 1)
    overview(30)

    with django_assert_num_queries(len(one.captured_queries)):
        overview(30)
