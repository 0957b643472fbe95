"""/api/v1/products against the real database."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.accounts.models import AuditEntry
from rapport.crm.models import OrderLine, Product
from tests.api.conftest import ApiClient
from tests.factories import make_contact, make_order, make_product

pytestmark = pytest.mark.django_db

URL = "/api/v1/products"


def test_create_read_update_delete(api: ApiClient) -> None:
    created = api.post_json(
        URL,
        {
            "sku": "CAM-1",
            "name": "Film camera",
            "category": "Camera",
            "price": "1299.5",
            "currency": "cny",
            "consumable": False,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["sku"], body["category"], body["price"], body["currency"], body["active"]) == (
        "CAM-1",
        "camera",
        "1299.50",
        "CNY",
        True,
    )

    product_url = f"{URL}/{body['id']}"
    assert api.get(product_url).json() == body

    updated = api.patch_json(product_url, {"price": 999, "active": False})
    assert updated.status_code == 200, updated.content
    assert (updated.json()["price"], updated.json()["active"]) == ("999.00", False)
    assert updated.json()["name"] == "Film camera"

    assert api.delete(product_url).status_code == 204
    assert api.get(product_url).status_code == 404
    actions = list(
        AuditEntry.objects.filter(target_type="product").values_list("action", flat=True)
    )
    assert sorted(actions) == ["product.create", "product.delete", "product.update"]


def test_order_lines_keep_their_sku_when_the_product_goes(api: ApiClient) -> None:
    product = make_product(sku="INK-7")
    make_order(make_contact(), [product])
    assert api.delete(f"{URL}/{product.pk}").status_code == 204
    line = OrderLine.objects.get()
    assert (line.sku, line.product) == ("INK-7", None)


def test_duplicate_sku_is_a_conflict_on_create_and_on_update(api: ApiClient) -> None:
    make_product(sku="A-1")
    other = make_product(sku="B-2")
    assert api.post_json(URL, {"sku": "A-1", "name": "Again"}).status_code == 409
    response = api.patch_json(f"{URL}/{other.pk}", {"sku": "A-1"})
    assert response.status_code == 409
    assert "A-1" in response.json()["error"]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "No SKU"}, 422, "sku"),
        ({"sku": "X", "name": ""}, 422, "name"),
        ({"sku": "X", "name": "X", "price": "lots"}, 422, "price"),
        ({"sku": "X", "name": "X", "currency": "dollars"}, 400, "currency"),
        ({"sku": "X", "name": "X", "colour": "red"}, 422, "colour"),
        ({"sku": "X", "name": "X", "active": None}, 422, "body"),
    ],
)
def test_create_refuses_bad_input(
    api: ApiClient, payload: dict[str, Any], status: int, field: str
) -> None:
    response = api.post_json(URL, payload)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert not Product.objects.exists()


def test_patch_refuses_null(api: ApiClient) -> None:
    product = make_product(name="Kept")
    response = api.patch_json(f"{URL}/{product.pk}", {"name": None})
    assert response.status_code == 422
    assert "name cannot be null" in response.json()["error"]
    product.refresh_from_db()
    assert product.name == "Kept"


def test_missing_product_is_404(api: ApiClient) -> None:
    assert api.get(f"{URL}/424242").status_code == 404
    assert api.patch_json(f"{URL}/424242", {"name": "x"}).status_code == 404
    assert api.delete(f"{URL}/424242").status_code == 404


def test_list_filters_and_pages(api: ApiClient) -> None:
    cameras = [make_product(category="camera").pk for _ in range(5)]
    make_product(category="film")
    make_product(category="camera", active=False)

    seen: list[int] = []
    cursor = ""
    for _ in range(3):
        body = api.get(f"{URL}?category=camera&active=true&limit=2&cursor={cursor}").json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"] or ""
    assert cursor == ""
    assert seen == sorted(cameras, reverse=True)
    assert len(api.get(f"{URL}?active=false").json()["items"]) == 1
