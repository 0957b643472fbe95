"""The report page, its CSV tables and who may see them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.test import Client

from rapport.accounts.roles import Role
from rapport.analytics.csv_export import safe_cell
from rapport.automation.models import JourneyEmail
from rapport.automation.services import save_journey
from rapport.campaigns.models import Campaign, CampaignKind
from rapport.crm.models import Event
from tests.analytics.fixture import make_spring

pytestmark = pytest.mark.django_db


def _csv(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_reads_the_report(role: str, client_for: Callable[[str], Client]) -> None:
    spring = make_spring()

    response = client_for(role).get(f"/campaigns/{spring.campaign}/report/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="stat-open-rate">71.4 %<' in page
    assert "vendor/plotly.min.js" in page
    assert 'id="figure-hourly"' in page


def test_anonymous_visitors_go_to_the_login_page(client: Client) -> None:
    spring = make_spring()
    for url in (
        f"/campaigns/{spring.campaign}/report/",
        f"/campaigns/{spring.campaign}/report/links.csv",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_every_table_exports_as_csv(client_for: Callable[[str], Client]) -> None:
    spring = make_spring()
    client = client_for(Role.VIEWER)

    links = _csv(client.get(f"/campaigns/{spring.campaign}/report/links.csv"))
    domains = _csv(client.get(f"/campaigns/{spring.campaign}/report/domains.csv"))

    assert links[0] == ["url", "clicks", "share", "scanner_clicks"]
    assert links[1:] == [
        ["https://shop.example.com/lenses", "2", "0.5000", "0"],
        ["https://shop.example.com/spring", "2", "0.5000", "1"],
    ]
    assert domains[1] == ["gmail.com", "6", "0", "6", "4", "3", "0.6667", "0.5000"]
    for table in ("summary", "hourly", "devices", "clients", "segments", "comparison"):
        response = client.get(f"/campaigns/{spring.campaign}/report/{table}.csv")
        assert response.status_code == 200, table
        assert response["Content-Disposition"] == (
            f'attachment; filename="campaign-{spring.campaign}-{table}.csv"'
        )


def test_an_unknown_table_is_named_in_the_404(client_for: Callable[[str], Client]) -> None:
    spring = make_spring()

    response = client_for(Role.VIEWER).get(f"/campaigns/{spring.campaign}/report/nope.csv")

    assert response.status_code == 404


def test_cells_that_look_like_formulas_are_defused(client_for: Callable[[str], Client]) -> None:
    spring = make_spring()
    Event.objects.filter(type="clicked", data__link=2).update(
        data={
            "link": 2,
            "url": '=HYPERLINK("http://evil.example")',
            "device": "desktop",
            "client": "+cmd",
            "scanner": False,
        }
    )

    rows = _csv(client_for(Role.VIEWER).get(f"/campaigns/{spring.campaign}/report/links.csv"))

    assert rows[1][0] == '\'=HYPERLINK("http://evil.example")'
    assert [safe_cell(v) for v in ("-1+2", "@SUM(A1)", "\tx", "plain", 3)] == [
        "'-1+2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        3,
    ]


def test_plotly_is_served_from_the_installed_package(client: Client) -> None:
    response = client.get("/static/vendor/plotly.min.js")

    assert response.status_code == 200
    head = b"".join(response.streaming_content)[:200]  # type: ignore[attr-defined]
    assert b"plotly.js v" in head


def test_the_report_speaks_chinese(client_for: Callable[[str], Client]) -> None:
    spring = make_spring()

    page = (
        client_for(Role.VIEWER, language="zh-hans")
        .get(f"/campaigns/{spring.campaign}/report/")
        .content.decode()
    )

    assert "报告：Spring" in page
    assert "打开率" in page and "与以往活动对比" in page


def test_a_journeys_report_adds_its_emails(client_for: Callable[[str], Client]) -> None:
    first, second = make_spring("First"), make_spring("Second")
    Campaign.objects.filter(pk__in=[first.campaign, second.campaign]).update(
        kind=CampaignKind.AUTOMATION
    )
    journey = save_journey(
        {"trigger": {"type": "contact_created"}, "steps": [{"type": "tag", "add": ["x"]}]},
        name="Welcome series",
        acting_user=None,
    )
    JourneyEmail.objects.create(journey=journey, step="welcome", campaign_id=first.campaign)
    JourneyEmail.objects.create(journey=journey, step="follow-up", campaign_id=second.campaign)
    client = client_for(Role.VIEWER)

    page = client.get(f"/journeys/{journey.pk}/report/").content.decode()
    emails = _csv(client.get(f"/journeys/{journey.pk}/report/emails.csv"))

    assert "Report: Welcome series" in page
    assert 'id="stat-delivered">14<' in page
    assert 'id="comparison"' not in page  # a welcome series is not compared with newsletters
    assert emails[0][:3] == ["email", "sent", "delivered"]
    assert [row[:3] for row in emails[1:]] == [["First", "9", "7"], ["Second", "9", "7"]]
    assert (
        f'href="/journeys/{journey.pk}/report/"'
        in client.get(f"/journeys/{journey.pk}/").content.decode()
    )
