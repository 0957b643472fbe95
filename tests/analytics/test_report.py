"""Every number of a campaign report against a hand count of the fixture (tests/analytics/
fixture.py), on the rollups as the report reads them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rapport.analytics.metrics import Money, metrics_for
from rapport.analytics.reports import build_report
from tests.analytics.fixture import LINK_A, LINK_B, make_spring
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_every_count_and_rate_matches_the_hand_count() -> None:
    spring = make_spring()

    report = build_report([spring.campaign])

    c = report.metrics.counts
    assert (c.recipients, c.sent, c.delivered) == (10, 9, 7)
    assert (c.bounced_hard, c.bounced_soft, c.bounced) == (1, 1, 2)
    assert (c.skipped, c.capped, c.pending) == (1, 1, 0)
    assert (c.openers, c.openers_by_click, c.clickers) == (5, 1, 3)
    assert (c.opens, c.clicks, c.machine_opens, c.scanner_clicks) == (5, 4, 1, 1)
    assert (c.unsubscribed, c.complained) == (1, 1)
    assert (c.converted, c.orders) == (2, 3)
    assert c.revenue == (Money("CNY", Decimal("100.00")), Money("USD", Decimal("70.00")))
    m = report.metrics
    assert m.open_rate == pytest.approx(5 / 7)
    assert m.click_rate == pytest.approx(3 / 7)
    assert m.click_to_open == pytest.approx(3 / 5)
    assert m.conversion_rate == pytest.approx(2 / 7)
    assert m.bounce_rate == pytest.approx(2 / 9)
    assert m.unsubscribe_rate == pytest.approx(1 / 7)
    assert m.complaint_rate == pytest.approx(1 / 7)
    assert m.revenue_per_email == (
        Money("CNY", Decimal("14.2857")),
        Money("USD", Decimal("10.0000")),
    )


def test_hour_by_hour_counts_each_person_in_the_hour_they_first_engaged() -> None:
    spring = make_spring()

    hourly = {row[0]: row[1:] for row in build_report([spring.campaign]).tables["hourly"].rows}

    # (opens, clicks, new openers, new clickers, machine opens, scanner clicks)
    assert hourly[0] == (0, 0, 0, 0, 1, 1)
    assert hourly[1] == (2, 0, 2, 0, 0, 0)
    assert hourly[2] == (1, 1, 0, 1, 0, 0)
    assert hourly[3] == (1, 0, 1, 0, 0, 0)
    assert hourly[5] == (0, 1, 1, 1, 0, 0)
    assert hourly[26] == (1, 1, 1, 1, 0, 0)
    assert hourly[27] == (0, 1, 0, 0, 0, 0)
    assert len(hourly) == 28
    assert sum(row[2] for row in hourly.values()) == 5


def test_links_devices_clients_domains_and_segments() -> None:
    spring = make_spring()

    tables = build_report([spring.campaign]).tables

    assert tables["links"].rows == [(LINK_B, 2, 0.5, 0), (LINK_A, 2, 0.5, 1)]  # ties by URL
    devices = {row[0]: row[1:] for row in tables["devices"].rows}
    # openers, share of openers, clickers, opens, clicks
    assert devices == {
        "desktop": (3, 3 / 5, 2, 2, 1),
        "mobile": (1, 1 / 5, 0, 2, 1),
        "tablet": (1, 1 / 5, 1, 1, 2),
    }
    clients = {row[0]: (row[1], row[3]) for row in tables["clients"].rows}
    assert clients == {"Apple Mail": (2, 2), "Outlook": (2, 1), "Gmail": (1, 0)}
    domains = {row[0]: row[1:] for row in tables["domains"].rows}
    # sent, bounced, delivered, openers, clickers, open rate, click rate
    assert domains == {
        "gmail.com": (6, 0, 6, 4, 3, 4 / 6, 3 / 6),
        "qq.com": (3, 2, 1, 1, 0, 1.0, 0.0),
    }
    assert tables["segments"].rows == [("Spring list", 9, 7, 5, 3, 5 / 7, 3 / 7)]


def test_a_set_of_campaigns_adds_their_counts() -> None:
    first, second = make_spring("First"), make_spring("Second")

    together = metrics_for([first.campaign, second.campaign]).counts

    alone = metrics_for([first.campaign]).counts
    assert together.delivered == 2 * alone.delivered == 14
    assert together.openers == 10
    assert together.revenue == (Money("CNY", Decimal("200.00")), Money("USD", Decimal("140.00")))


def test_the_api_answers_the_same_numbers() -> None:
    spring = make_spring()

    response = client_for("viewer").get(f"/api/v1/campaigns/{spring.campaign}/report")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["counts"]["delivered"] == 7
    assert body["counts"]["bounced"] == 2
    assert body["rates"]["click_to_open"] == pytest.approx(0.6)
    assert body["revenue"] == [
        {"currency": "CNY", "amount": "100.00"},
        {"currency": "USD", "amount": "70.00"},
    ]
    assert body["tables"]["links"]["columns"] == ["url", "clicks", "share", "scanner_clicks"]
    assert [row[0] for row in body["tables"]["links"]["rows"]] == [LINK_B, LINK_A]


def test_the_api_names_a_missing_campaign() -> None:
    response = client_for("viewer").get("/api/v1/campaigns/999999/report")

    assert response.status_code == 404
    assert "999999" in response.json()["error"]
