"""Coupon codes: unique per contact under concurrency, redeemed once, refused when due."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from rapport.content.context import ContextBuilder, Sender
from rapport.content.coupons import ensure_builtin_series, issue_codes, new_code
from rapport.content.models import Coupon, CouponRedemption, CouponSeries
from rapport.content.services import TemplateContent, check_content, compile_content
from rapport.crm.models import Contact
from rapport.crm.services import OrderLineInput, create_order
from tests.factories import make_contact, make_product, make_user


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuers_agree_on_one_code_per_contact() -> None:
    ensure_builtin_series()
    contacts = [make_contact().pk for _ in range(40)]
    results: list[dict[int, str]] = []
    errors: list[BaseException] = []

    def issue() -> None:
        try:
            results.append(issue_codes("BDAY", contacts, "campaign:7"))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 6
    assert all(result == results[0] for result in results)
    assert set(results[0]) == set(contacts)
    assert Coupon.objects.count() == 40
    assert len(set(results[0].values())) == 40
    assert all(code.startswith("BDAY-") for code in results[0].values())


@pytest.mark.django_db
def test_codes_are_per_sender_and_expire_with_the_series() -> None:
    ensure_builtin_series()
    contact = make_contact()
    first = issue_codes("BDAY", [contact.pk], "journey:1")[contact.pk]
    again = issue_codes("BDAY", [contact.pk], "journey:1")[contact.pk]
    other = issue_codes("BDAY", [contact.pk], "campaign:2")[contact.pk]
    assert first == again != other
    coupon = Coupon.objects.get(code=first)
    assert coupon.expires_at is not None
    assert dt.timedelta(days=29) < coupon.expires_at - timezone.now() <= dt.timedelta(days=30)


def test_codes_avoid_characters_people_misread() -> None:
    codes = {new_code("x") for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        prefix, body = code.split("-")
        assert prefix == "X"
        assert len(body) == 8
        assert not set(body) & set("01OIL")


def _order(contact: Contact, code: str, external_id: str) -> None:
    product = make_product(price=Decimal("100.00"))
    create_order(
        external_id=external_id,
        email=contact.email,
        placed_at=timezone.now(),
        currency="CNY",
        coupon_code=code,
        lines=[OrderLineInput(sku=product.sku, quantity=1, unit_price=Decimal("100.00"))],
        acting_user=make_user(),
    )


@pytest.mark.django_db
def test_an_order_with_the_code_redeems_it_once_and_a_second_use_is_refused() -> None:
    ensure_builtin_series()
    contact = make_contact()
    code = issue_codes("BDAY", [contact.pk], "journey:1")[contact.pk]

    _order(contact, code.lower(), "R-1")  # typed in lower case at the till
    _order(contact, code, "R-2")

    first, second = CouponRedemption.objects.order_by("order__external_id")
    assert (first.accepted, first.reason) == (True, "")
    assert (second.accepted, second.reason) == (False, "already used")
    assert Coupon.objects.get(code=code).times_used == 1


@pytest.mark.django_db
def test_expired_shared_and_foreign_codes() -> None:
    ensure_builtin_series()
    owner, friend = make_contact(), make_contact()
    series = CouponSeries.objects.get(name="BDAY")
    series.usage_limit = 5
    series.save()
    code = issue_codes("BDAY", [owner.pk], "journey:1")[owner.pk]
    Coupon.objects.filter(code=code).update(expires_at=timezone.now() - dt.timedelta(days=1))

    _order(owner, code, "E-1")
    _order(friend, code, "E-2")
    _order(owner, "SHOP-SUMMER", "E-3")  # the shop's own code: not ours to judge

    reasons = dict(CouponRedemption.objects.values_list("order__external_id", "reason"))
    assert reasons == {"E-1": "expired", "E-2": "issued to another contact"}


@pytest.mark.django_db
def test_a_send_issues_each_contacts_code_once_per_batch_and_renders_it() -> None:
    ensure_builtin_series()
    people = [make_contact() for _ in range(3)]
    content = TemplateContent(subject="x", html='<p>{{ coupon("BDAY") }}</p>')
    usage = check_content(content)
    builder = ContextBuilder(
        sender=Sender("journey:9"), usage=usage, now=timezone.now(), issue_coupons=True
    )
    compiled = compile_content(content)
    first = [compiled.render(c).html for c in builder.build([p.pk for p in people])]
    again = [compiled.render(c).html for c in builder.build([p.pk for p in people])]

    assert first == again
    assert len(set(first)) == 3
    assert Coupon.objects.filter(issued_for="journey:9").count() == 3
    assert all(html.startswith("<p>BDAY-") for html in first)
