"""Orders credited to the email that led to them: last human touch within the windows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.campaigns.models import Campaign
from rapport.content.coupons import ensure_builtin_series, issue_codes
from rapport.crm.imports import import_file
from rapport.crm.models import Contact, Event, EventType, Order
from rapport.crm.services import OrderLineInput, create_order
from rapport.tracking.models import TrackingSettings
from rapport.tracking.recorder import Recorder
from tests.factories import make_contact, make_user
from tests.tracking.builders import BROWSER, click_path, make_campaign, make_delivery, make_link

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _touch(contact: Contact, campaign: Campaign, kind: str, hours_ago: float, **data: Any) -> Event:
    return Event.objects.create(
        contact=contact,
        type=kind,
        campaign_id=campaign.pk,
        occurred_at=NOW - dt.timedelta(hours=hours_ago),
        data={"delivery": 1, **data},
    )


def _order(contact: Contact, *, hours_ago: float = 0, coupon: str = "", total: str = "80") -> Event:
    order = create_order(
        external_id=f"O-{Order.objects.count() + 1}",
        email=contact.email,
        placed_at=NOW - dt.timedelta(hours=hours_ago),
        currency="CNY",
        lines=[OrderLineInput(sku="SKU", quantity=1, unit_price=Decimal(total))],
        coupon_code=coupon,
        acting_user=make_user(),
    )
    return Event.objects.get(order=order, type=EventType.ORDERED)


def test_an_order_within_the_click_window_is_credited_with_its_rule() -> None:
    contact, campaign = make_contact(), make_campaign()
    click = _touch(contact, campaign, EventType.CLICKED, hours_ago=100, scanner=False)

    ordered = _order(contact)

    assert ordered.campaign_id == campaign.pk
    assert ordered.data["attribution"] == {
        "touch": "click", "touch_event": click.pk, "rule": "last_touch", "window_hours": 168,
    }  # fmt: skip
    assert ordered.order is not None and ordered.order.total == Decimal("80.00")


def test_an_order_outside_every_window_stays_unattributed() -> None:
    contact, campaign = make_contact(), make_campaign()
    _touch(contact, campaign, EventType.CLICKED, hours_ago=169, scanner=False)
    _touch(contact, campaign, EventType.OPENED, hours_ago=25, machine=False)

    ordered = _order(contact)

    assert ordered.campaign_id is None
    assert "attribution" not in ordered.data


def test_the_last_click_wins_among_several_campaigns_and_machines_never_do() -> None:
    contact = make_contact()
    spring, summer, autumn = make_campaign(), make_campaign(), make_campaign()
    _touch(contact, spring, EventType.CLICKED, hours_ago=50, scanner=False)
    last_human = _touch(contact, summer, EventType.CLICKED, hours_ago=20, scanner=False)
    _touch(contact, autumn, EventType.CLICKED, hours_ago=1, scanner=True)  # a gateway
    _touch(contact, autumn, EventType.OPENED, hours_ago=0.5, machine=False)  # opens rank lower

    ordered = _order(contact)

    assert ordered.campaign_id == summer.pk
    assert ordered.data["attribution"]["touch_event"] == last_human.pk


def test_an_open_is_credited_only_without_a_click_and_only_when_allowed() -> None:
    contact, campaign = make_contact(), make_campaign()
    _touch(contact, campaign, EventType.OPENED, hours_ago=30, machine=False)  # too old
    opened = _touch(contact, campaign, EventType.OPENED, hours_ago=5, machine=False)
    _touch(contact, campaign, EventType.OPENED, hours_ago=1, machine=True)  # Apple's proxy

    ordered = _order(contact)
    assert ordered.campaign_id == campaign.pk
    assert ordered.data["attribution"] == {
        "touch": "open", "touch_event": opened.pk, "rule": "last_touch", "window_hours": 24,
    }  # fmt: skip

    TrackingSettings.objects.create(attribute_opens=False)
    assert _order(contact).campaign_id is None


def test_the_windows_are_the_workspaces() -> None:
    TrackingSettings.objects.create(click_window_hours=2)
    contact, campaign = make_contact(), make_campaign()
    _touch(contact, campaign, EventType.CLICKED, hours_ago=3, scanner=False)
    assert _order(contact).campaign_id is None
    _touch(contact, campaign, EventType.CLICKED, hours_ago=1, scanner=False)
    credited = _order(contact)
    assert credited.data["attribution"]["window_hours"] == 2


def test_a_touch_recorded_after_the_order_does_not_credit_it() -> None:
    contact, campaign = make_contact(), make_campaign()
    ordered = _order(contact, hours_ago=2)
    _touch(contact, campaign, EventType.CLICKED, hours_ago=1, scanner=False)
    _order(contact)  # a later order runs attribution for the contact again
    ordered.refresh_from_db()
    assert ordered.campaign_id is None


def test_imported_historical_orders_are_credited_against_their_own_time(tmp_path: Path) -> None:
    contact, campaign = make_contact(), make_campaign()
    placed = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
    Event.objects.create(
        contact=contact,
        type=EventType.CLICKED,
        campaign_id=campaign.pk,
        occurred_at=placed - dt.timedelta(days=2),
        data={"delivery": 1, "scanner": False},
    )
    other = make_contact()  # clicked too long before their order
    Event.objects.create(
        contact=other,
        type=EventType.CLICKED,
        campaign_id=campaign.pk,
        occurred_at=placed - dt.timedelta(days=9),
        data={"delivery": 2, "scanner": False},
    )
    csv = tmp_path / "orders.csv"
    csv.write_text(
        "order_id,email,placed_at,sku,quantity,unit_price,currency\n"
        f"H-1,{contact.email},2024-03-10 12:00,SKU,1,120,CNY\n"
        f"H-2,{other.email},2024-03-10 12:00,SKU,1,50,CNY\n",
        encoding="utf-8",
    )

    import_file("orders", csv, acting_user=None)

    credited = Event.objects.get(type=EventType.ORDERED, order__external_id="H-1")
    assert credited.campaign_id == campaign.pk
    assert credited.data["attribution"]["touch"] == "click"
    assert credited.order is not None and credited.order.total == Decimal("120.00")
    plain = Event.objects.get(type=EventType.ORDERED, order__external_id="H-2")
    assert plain.campaign_id is None
    import_file("orders", csv, acting_user=None)  # importing again changes nothing
    assert Event.objects.filter(type=EventType.ORDERED).count() == 2


def test_a_coupon_order_from_a_campaign_is_credited_and_the_coupon_redeemed() -> None:
    ensure_builtin_series()
    contact, campaign = make_contact(), make_campaign()
    code = issue_codes("BDAY", [contact.pk], f"campaign:{campaign.pk}")[contact.pk]
    _touch(contact, campaign, EventType.CLICKED, hours_ago=3, scanner=False)

    ordered = _order(contact, coupon=code)

    assert ordered.campaign_id == campaign.pk
    assert ordered.order is not None
    assert ordered.order.coupon_redemption.accepted  # type: ignore[attr-defined]


def test_an_order_committed_before_its_click_was_written_is_credited_by_the_writer(
    recorder: Recorder,
) -> None:
    contact, campaign = make_contact(), make_campaign()
    link = make_link(campaign, "https://shop.example.com/")
    Client().get(click_path(make_delivery(campaign, contact), link), HTTP_USER_AGENT=BROWSER)

    ordered = _order(contact, hours_ago=-1)  # after the click, before its batch is written
    assert ordered.campaign_id is None
    recorder.flush(everything=True)

    ordered.refresh_from_db()
    assert ordered.campaign_id == campaign.pk
    assert ordered.data["attribution"]["touch"] == "click"
