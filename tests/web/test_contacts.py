"""The contact list (search, filters, keyset pages), the contact page and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.crm.models import Company, Contact, CustomField, Event, EventType, JourneyMoment
from rapport.web import contacts as contact_pages
from tests.factories import make_contact, make_order, make_product

ClientFor = Callable[[str], Client]


def _listed(client: Client, query: str) -> set[str]:
    response = client.get(f"/contacts/?{query}")
    assert response.status_code == 200
    return {c.email for c in response.context["listing"].contacts}


@pytest.fixture
def people(db: None) -> dict[str, Contact]:
    return {
        "zhang": make_contact(
            email="zhang.wei@example.cn", given_name="伟", family_name="张", phone="+8613812345678"
        ),
        "smith": make_contact(
            email="john@smith.example",
            given_name="John",
            family_name="Smith",
            country="GB",
            city="London",
            audience="b2b",
        ),
        "li": make_contact(
            email="li.na@example.cn", given_name="娜", family_name="李", status="unsubscribed"
        ),
    }


def test_search_by_email_name_and_phone_prefix(
    client_for: ClientFor, people: dict[str, Contact]
) -> None:
    client = client_for(Role.VIEWER)
    assert _listed(client, "q=zhang.w") == {"zhang.wei@example.cn"}
    assert _listed(client, "q=JOHN%40smith") == {"john@smith.example"}
    assert _listed(client, "q=张伟") == {"zhang.wei@example.cn"}
    assert _listed(client, "q=张") == {"zhang.wei@example.cn"}
    assert _listed(client, "q=john+sm") == {"john@smith.example"}
    assert _listed(client, "q=smith") == {"john@smith.example"}
    assert _listed(client, "q=%2B86138123") == {"zhang.wei@example.cn"}
    assert _listed(client, "q=nobody") == set()


def test_filters_combine_and_show_no_total(
    client_for: ClientFor, people: dict[str, Contact]
) -> None:
    client = client_for(Role.VIEWER)
    assert _listed(client, "status=unsubscribed") == {"li.na@example.cn"}
    assert _listed(client, "audience=b2b") == {"john@smith.example"}
    assert _listed(client, "country=gb") == {"john@smith.example"}
    assert _listed(client, "country=CN&status=subscribed") == {"zhang.wei@example.cn"}
    assert client.get("/contacts/?country=CN").context["listing"].total is None
    assert client.get("/contacts/").context["listing"].total == 3
    # A bad filter value is dropped, not a server error.
    assert client.get("/contacts/?status=nonsense&after=x").status_code == 200


def test_keyset_pages_walk_every_contact_once(
    client_for: ClientFor, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contact_pages, "PAGE_SIZE", 4)
    made = {make_contact(country="FR").email for _ in range(10)}
    client = client_for(Role.VIEWER)
    seen: list[str] = []
    url = "/contacts/?country=FR"
    while url:
        response = client.get(url)
        seen += [c.email for c in response.context["listing"].contacts]
        cursor = response.context["listing"].next_cursor
        if cursor:
            assert f"after={cursor}" in response.content.decode()
        url = f"/contacts/?country=FR&after={cursor}" if cursor else ""
    assert len(seen) == 10
    assert set(seen) == made


def test_list_page_query_count_does_not_grow(
    client_for: ClientFor, db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    client = client_for(Role.VIEWER)
    for n in range(60):
        make_contact(company=None if n % 2 else _company(f"Company {n}"))
    for query in ("", "q=zh", "status=subscribed&country=CN"):
        # session, user, page, (count when unfiltered)
        with django_assert_max_num_queries(4):
            assert client.get(f"/contacts/?{query}").status_code == 200


def _company(name: str) -> Company:
    return Company.objects.create(name=name)


def test_contact_page_shows_profile_orders_and_timeline_in_constant_queries(
    client_for: ClientFor, db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    CustomField.objects.create(key="vip_level", label="VIP level", type="text")
    contact = make_contact(
        given_name="伟", family_name="张", custom={"vip_level": "gold"}, tags=["coffee", "film"]
    )
    products = [make_product(name=f"Beans {n}") for n in range(3)]
    orders = [make_order(contact, products, coupon_code="SPRING") for _ in range(5)]
    for n in range(10):
        Event.objects.create(
            contact=contact,
            type=EventType.OPENED,
            name=f"newsletter {n}",
            occurred_at=orders[0].placed_at,
        )
    client = client_for(Role.VIEWER)
    # session, user, contact, custom field labels, orders, lines with products, timeline,
    # the suppression entry of the address or its domain
    with django_assert_max_num_queries(8):
        response = client.get(f"/contacts/{contact.pk}/")
    page = response.content.decode()
    assert "张伟" in page
    assert "VIP level" in page and "gold" in page
    assert "coffee, film" in page
    assert orders[-1].external_id in page and "Beans 2" in page and "SPRING" in page
    assert "Email opened" in page and "newsletter 9" in page


def test_export_streams_csv_neutralises_formulas_and_is_audited(
    client_for: ClientFor, db: None
) -> None:
    make_contact(email="evil@example.com", given_name="=cmd|' /C calc'!A0", country="CN")
    make_contact(email="other@example.com", country="GB")
    client = client_for(Role.MARKETER)
    response = client.get("/contacts/export.csv?country=CN")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["email"] for r in rows] == ["evil@example.com"]
    assert rows[0]["given_name"] == "'=cmd|' /C calc'!A0"
    entry = AuditEntry.objects.get(action="contacts.export")
    assert entry.actor == client.user
    assert entry.detail["country"] == "CN"


def test_viewer_may_not_export(client_for: ClientFor, db: None) -> None:
    assert client_for(Role.VIEWER).get("/contacts/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="contacts.export").exists()


def test_the_timeline_names_the_journey_and_what_happened_in_the_readers_language(client_for):
    contact = make_contact()
    Event.objects.create(
        contact=contact,
        type=EventType.JOURNEY,
        name=JourneyMoment.POINTS,
        occurred_at=timezone.now(),
        data={"journey": 1, "journey_name": "生日祝福", "points": 100, "reason": "birthday"},
    )
    english = client_for(Role.MARKETER).get(f"/contacts/{contact.pk}/").content.decode()
    chinese = client_for(Role.MARKETER, language="zh-hans").get(f"/contacts/{contact.pk}/")

    assert "Journey step</strong> · 生日祝福 · points awarded +100" in english
    assert "· 生日祝福 · 获得积分 +100" in chinese.content.decode()
