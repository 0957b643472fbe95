"""/api/v1/orders against the real database."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.accounts.models import AuditEntry
from rapport.crm.models import Contact, ContactStatus, Event, EventType, Order, OrderLine
from tests.api.conftest import ApiClient
from tests.factories import make_contact, make_order, make_product

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders"


def _order(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "external_id": "SHOP-1001",
        "email": "Buyer@Example.org",
        "placed_at": "2026-03-01T10:30:00+08:00",
        "currency": "CNY",
        "lines": [
            {"sku": "CAM-1", "quantity": 2, "unit_price": "100.25"},
            {"sku": "NOT-IN-CATALOGUE", "unit_price": "5"},
        ],
    }
    payload.update(overrides)
    return payload


def test_create_records_the_order_its_lines_and_a_timeline_event(api: ApiClient) -> None:
    camera = make_product(sku="CAM-1")

    response = api.post_json(URL, _order(coupon_code="spring"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["external_id"], body["email"], body["total"], body["coupon_code"]) == (
        "SHOP-1001",
        "buyer@example.org",
        "205.50",
        "SPRING",
    )
    assert body["placed_at"] == "2026-03-01T02:30:00Z"
    assert body["lines"] == [
        {"sku": "CAM-1", "product_id": camera.pk, "quantity": 2, "unit_price": "100.25"},
        {"sku": "NOT-IN-CATALOGUE", "product_id": None, "quantity": 1, "unit_price": "5.00"},
    ]
    buyer = Contact.objects.get(email="buyer@example.org")
    assert buyer.status == ContactStatus.NOT_SUBSCRIBED  # buying is not consent to marketing
    assert Event.objects.filter(contact=buyer, type=EventType.ORDERED, order_id=body["id"]).exists()
    assert api.get(f"{URL}/{body['id']}").json() == body


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"placed_at": "2026-03-01T10:30:00"}, 422, "placed_at"),
        ({"lines": []}, 422, "lines"),
        ({"lines": [{"sku": "A", "quantity": 0}]}, 422, "lines.0.quantity"),
        ({"email": "nobody"}, 400, "email"),
        ({"currency": "money"}, 400, "currency"),
        ({"total": "many"}, 422, "total"),
    ],
)
def test_create_refuses_bad_input(
    api: ApiClient, overrides: dict[str, Any], status: int, field: str | None
) -> None:
    response = api.post_json(URL, _order(**overrides))
    assert response.status_code == status, response.content
    assert response.json().get("field") == field
    assert not Order.objects.exists()


def test_same_external_id_twice_is_a_conflict(api: ApiClient) -> None:
    assert api.post_json(URL, _order()).status_code == 201
    response = api.post_json(URL, _order())
    assert response.status_code == 409
    assert Order.objects.count() == 1


def test_delete_removes_the_order_its_lines_and_its_ordered_event(api: ApiClient) -> None:
    contact = make_contact()
    order = make_order(contact, [make_product(), make_product()])
    kept = make_order(contact, [make_product()])

    response = api.delete(f"{URL}/{order.pk}")

    assert response.status_code == 204
    assert list(Order.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not OrderLine.objects.filter(order_id=order.pk).exists()
    assert list(Event.objects.filter(type=EventType.ORDERED).values_list("order", flat=True)) == [
        kept.pk
    ]
    entry = AuditEntry.objects.get(action="order.delete")
    assert entry.detail["external_id"] == order.external_id
    assert api.delete(f"{URL}/{order.pk}").status_code == 404


def test_list_by_contact_id_and_by_email(api: ApiClient) -> None:
    alice = make_contact(email="alice@example.org")
    bob = make_contact(email="bob@example.org")
    alices = [make_order(alice).pk for _ in range(2)]
    make_order(bob)

    by_id = api.get(f"{URL}?contact_id={alice.pk}").json()["items"]
    by_email = api.get(f"{URL}?email=ALICE@example.org").json()["items"]

    assert [o["id"] for o in by_id] == sorted(alices, reverse=True)
    assert by_email == by_id
    assert len(api.get(URL).json()["items"]) == 3
    assert api.get(f"{URL}?email=nobody@example.org").json()["items"] == []
    assert api.get(f"{URL}?email=not-an-email").status_code == 400


def test_list_pages_with_lines_in_constant_queries(
    api: ApiClient, django_assert_num_queries: Any
) -> None:
    contact = make_contact()
    products = [make_product() for _ in range(3)]
    ids = [make_order(contact, products).pk for _ in range(9)]
    api.get(URL)  # the token's first use also records last_used_at

    seen: list[int] = []
    cursor = ""
    # The token with its user, the orders with their contacts, then all their lines.
    for _ in range(3):
        with django_assert_num_queries(3):
            body = api.get(f"{URL}?limit=4&cursor={cursor}").json()
        assert all(len(item["lines"]) == 3 for item in body["items"])
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"] or ""
    assert cursor == ""
    assert seen == sorted(ids, reverse=True)
