"""``rapport template render|list`` and ``rapport recommend`` in a child process."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from rapport.content.recommend import train
from tests.factories import make_contact, make_order, make_product
from tests.helpers import run_cli

pytestmark = pytest.mark.django_db(transaction=True)


def test_render_prints_subject_html_and_text_for_a_contact(tmp_path: Path) -> None:
    make_contact(email="li.na@example.com", given_name="娜", family_name="李", locale="zh-Hans")
    page = tmp_path / "t.html"
    page.write_text(
        "<html><head><title>{{ contact.salutation }}，您好</title></head>"
        "<body><p>{{ contact.name }} · {{ 99 | currency('CNY') }}</p></body></html>",
        encoding="utf-8",
    )
    done = run_cli(
        "template", "render", "--file", str(page), "--contact", "li.na@example.com", "--json",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    assert set(message) == {"subject", "html", "text"}
    assert message["subject"] == "亲爱的李娜，您好"
    assert "<p>李娜 · ¥99.00</p>" in message["html"]
    assert message["text"].strip() == "李娜 · ¥99.00"


def test_render_refuses_a_broken_or_hostile_template_with_exit_code_2(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<p>ok</p>\n<p>{{ contact.__class__ }}</p>", encoding="utf-8")
    done = run_cli(
        "template", "render", "--file", str(page), "--subject", "Hi", "--json", tmp_path=tmp_path
    )
    assert done.returncode == 2
    assert json.loads(done.stdout) == {
        "error": "html, line 2: '__class__' cannot be used in emails"
    }

    unknown = run_cli(
        "template", "render", "--file", str(page), "--contact", "nobody@example.com",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert unknown.returncode == 2


def test_list_shows_the_starting_templates(tmp_path: Path) -> None:
    done = run_cli("template", "list", "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {item["name"] for item in json.loads(done.stdout)}
    assert {"Birthday (English)", "Birthday (简体中文)"} <= names


def test_recommend_prints_products_that_fit_what_the_contact_bought(tmp_path: Path) -> None:
    camera = make_product(sku="CAM", name="Camera", category="camera", price=Decimal(999))
    lens = make_product(sku="LENS", name="Lens", category="lens", price=Decimal(399))
    make_product(sku="KETTLE", name="Kettle", category="home", price=Decimal(30))
    for n in range(6):
        buyer = make_contact()
        make_order(buyer, [camera], external_id=f"C-{n}")
        make_order(buyer, [lens], external_id=f"L-{n}")
    make_contact(email="new.owner@example.com")
    owner = make_contact(email="owner@example.com")
    make_order(owner, [camera], external_id="OWN-1")
    train()

    done = run_cli("recommend", "owner@example.com", "--json", tmp_path=tmp_path)

    assert done.returncode == 0, done.stderr
    skus = [item["sku"] for item in json.loads(done.stdout)]
    assert skus[0] == "LENS"
    assert "CAM" not in skus
    missing = run_cli("recommend", "ghost@example.com", tmp_path=tmp_path)
    assert missing.returncode == 2
    assert "ghost@example.com" in missing.stderr
