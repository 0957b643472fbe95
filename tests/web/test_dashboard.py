"""The dashboard: counts, revenue per currency, newest contacts, recent imports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from rapport.accounts.roles import Role
from rapport.crm.models import ImportJob
from rapport.web.dashboard import Revenue
from tests.factories import make_contact, make_order

ClientFor = Callable[[str], Client]


def test_counts_and_revenue_by_currency(client_for: ClientFor) -> None:
    buyer = make_contact(email="buyer@example.com")
    make_contact(status="unsubscribed")
    make_order(buyer, total=Decimal("100.50"), currency="CNY")
    make_order(buyer, total=Decimal("20.00"), currency="USD")
    make_order(
        buyer,
        total=Decimal("999.00"),
        currency="CNY",
        placed_at=timezone.now() - dt.timedelta(days=45),
    )
    response = client_for(Role.MARKETER).get("/")
    data = response.context["data"]
    assert (data.counts.contacts, data.counts.subscribed, data.counts.orders) == (2, 1, 3)
    assert data.counts.revenue == [
        Revenue("CNY", Decimal("100.50")),
        Revenue("USD", Decimal("20.00")),
    ]
    assert data.newest_contacts[0].email != "buyer@example.com"
    assert "buyer@example.com" in response.content.decode()


def test_counts_are_cached_and_imports_shown_only_to_importers(
    client_for: ClientFor, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    ImportJob.objects.create(kind="contacts", file_path="/x.csv", original_name="list.csv")
    marketer = client_for(Role.MARKETER)
    # 8 for the page, the rest for the engagement overview: absorbing new events first, then
    # a fixed number however many campaigns (tests/analytics/test_dashboard.py)
    with django_assert_max_num_queries(28):
        assert "list.csv" in marketer.get("/").content.decode()
    # session, user, newest contacts, recent imports: the counts and overview come from the cache
    with django_assert_max_num_queries(4):
        marketer.get("/")
    assert "list.csv" not in client_for(Role.VIEWER).get("/").content.decode()
