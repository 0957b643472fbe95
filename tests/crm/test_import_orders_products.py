"""Products and orders import: upserts by SKU and order id, order lines kept together."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from rapport.crm.importing.runner import run_import
from rapport.crm.models import Contact, ContactStatus, Event, EventType, Order, Product

pytestmark = pytest.mark.django_db

PRODUCTS = (
    "商品编号,商品名称,分类,单价,币种,消耗品\n"
    "CAM-1,Mirrorless camera,Camera,5999.00,人民币,否\n"
    "LENS-50,50mm lens,Lens,1999,CNY,no\n"
    "BEANS,Coffee beans,Coffee,¥89.50,CNY,是\n"
)
ORDERS = (
    "order id,email,order date,sku,qty,unit price,coupon\n"
    "A-1,Buyer@Example.com,2026-05-01T10:00:00+08:00,CAM-1,1,5999,spring\n"
    "A-1,buyer@example.com,2026-05-01T10:00:00+08:00,LENS-50,2,1999,spring\n"
    "A-2,other@example.com,2026-06-01,BEANS,3,89.5,\n"
)


def test_products_upsert_by_sku_with_chinese_headers(write_csv):
    result = run_import("products", write_csv("p.csv", PRODUCTS))
    assert (result.created, result.rejected) == (3, 0)
    beans = Product.objects.get(sku="BEANS")
    assert (beans.price, beans.currency, beans.consumable, beans.category) == (
        Decimal("89.50"),
        "CNY",
        True,
        "coffee",
    )

    again = run_import("products", write_csv("p2.csv", PRODUCTS.replace("5999.00", "5799")))
    assert (again.created, again.updated) == (0, 1)
    assert Product.objects.get(sku="CAM-1").price == Decimal("5799.00")


def test_a_new_product_without_a_name_is_rejected(write_csv):
    result = run_import("products", write_csv("p.csv", "sku,price\nNEW-1,10\n"))
    assert (result.created, result.rejected) == (0, 1)


def test_orders_group_lines_create_buyers_without_consent_and_timeline_events(write_csv):
    run_import("products", write_csv("p.csv", PRODUCTS))
    result = run_import("orders", write_csv("o.csv", ORDERS))

    assert (result.rows, result.created, result.rejected) == (3, 2, 0)
    order = Order.objects.get(external_id="A-1")
    assert order.total == Decimal("9997.00")
    assert order.coupon_code == "SPRING"
    assert sorted(order.lines.values_list("sku", "quantity")) == [("CAM-1", 1), ("LENS-50", 2)]
    assert all(line.product_id for line in order.lines.all())
    buyer = Contact.objects.get(email="buyer@example.com")
    assert buyer.status == ContactStatus.NOT_SUBSCRIBED
    assert Event.objects.filter(contact=buyer, type=EventType.ORDERED, order=order).count() == 1

    again = run_import("orders", write_csv("o2.csv", ORDERS))
    assert (again.created, again.updated, again.as_json()["unchanged"]) == (0, 0, 2)
    assert Event.objects.filter(type=EventType.ORDERED).count() == 2


def test_changed_order_lines_replace_the_stored_ones(write_csv):
    run_import("orders", write_csv("o.csv", ORDERS))
    changed = ORDERS.replace("LENS-50,2,1999", "LENS-50,1,1999")
    result = run_import("orders", write_csv("o2.csv", changed))
    assert result.updated == 1
    order = Order.objects.get(external_id="A-1")
    assert order.total == Decimal("7998.00")
    assert order.lines.get(sku="LENS-50").quantity == 1


def test_one_bad_line_rejects_the_whole_order(write_csv):
    text = ORDERS.replace("LENS-50,2,1999", "LENS-50,two,1999")
    result = run_import("orders", write_csv("o.csv", text))
    assert (result.created, result.rejected) == (1, 2)
    assert not Order.objects.filter(external_id="A-1").exists()
    with open(result.rejects_path, encoding="utf-8-sig") as handle:
        reasons = {r["reject_row"]: r["reject_reason"] for r in csv.DictReader(handle)}
    assert "is not a quantity" in reasons["3"]
    assert "another line of this order was refused" in reasons["2"]


def test_an_order_whose_lines_are_apart_is_refused_the_second_time(write_csv):
    text = ORDERS + "A-1,buyer@example.com,2026-05-01,BEANS,1,89.5,\n"
    result = run_import("orders", write_csv("o.csv", text))
    assert result.rejected == 1
    assert Order.objects.get(external_id="A-1").lines.count() == 2


def test_an_order_without_a_time_is_refused(write_csv):
    result = run_import(
        "orders", write_csv("o.csv", "order id,email,order date\nZ,z@example.com,\n")
    )
    assert (result.created, result.rejected) == (0, 1)
