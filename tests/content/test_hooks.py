"""Content follows the CRM: an import of orders redeems our codes and retrains recommendations;
product pages and pictures come in with products."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rapport.content.coupons import ensure_builtin_series, issue_codes
from rapport.content.models import CouponRedemption, RecommendationModel
from rapport.crm.imports import import_file
from rapport.crm.models import Product
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_order_import_redeems_codes_and_retrains_recommendations(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    ensure_builtin_series()
    buyer = make_contact(email="buyer@example.com")
    code = issue_codes("BDAY", [buyer.pk], "journey:1")[buyer.pk]
    products = _write(
        tmp_path,
        "p.csv",
        "sku,name,category,price,url,image\n"
        "CAM-1,Camera,camera,999,https://shop.example.com/cam,https://img.example.com/cam.jpg\n"
        "LENS-1,Lens,lens,399,,\n",
    )
    assert import_file("products", products, acting_user=None).rejected == 0
    orders = _write(
        tmp_path,
        "o.csv",
        "order id,email,order date,sku,qty,unit price,coupon\n"
        f"A-1,buyer@example.com,2026-11-01,CAM-1,1,999,{code.lower()}\n"
        "A-2,buyer@example.com,2026-11-10,LENS-1,1,399,\n",
    )
    before = RecommendationModel.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        import_file("orders", orders, acting_user=None)

    redemption = CouponRedemption.objects.get()
    assert redemption.order.external_id == "A-1"
    assert redemption.accepted
    assert RecommendationModel.objects.count() == 1
    assert RecommendationModel.objects.get().orders == 2
    assert before == 0
    camera = Product.objects.get(sku="CAM-1")
    assert (camera.url, camera.image_url) == (
        "https://shop.example.com/cam",
        "https://img.example.com/cam.jpg",
    )


def test_a_product_url_that_is_not_a_web_address_is_rejected(tmp_path: Path) -> None:
    products = _write(tmp_path, "p.csv", "sku,name,url\nX-1,Thing,javascript:alert(1)\n")
    result = import_file("products", products, acting_user=None)
    assert result.rejected == 1
    assert not Product.objects.filter(sku="X-1").exists()
