"""A small campaign whose every number was counted by hand (see the table in each test).

Ten recipients: c0-c5 at gmail.com, c6-c8 at qq.com, c9 at example.org. c8 was refused
at the hand-off (a hard bounce), c7 was accepted and then soft-bounced, c9 was skipped,
c6 was held by a cap once. The events are written in the contract's shape, as tracking and
attribution will write them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from rapport.analytics.dashboard import MIN_DELIVERED
from rapport.campaigns.models import Campaign, CampaignState
from rapport.crm.models import Contact, Event, EventType
from rapport.delivery.models import Bounce, BounceKind, Delivery, DeliveryState
from tests.factories import make_order, started_campaign

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)  # a Tuesday
LINK_A = "https://shop.example.com/spring"
LINK_B = "https://shop.example.com/lenses"
EMAILS = [
    *(f"c{i}@gmail.com" for i in range(6)),
    *(f"c{i}@qq.com" for i in range(6, 9)),
    "c9@example.org",
]


@dataclass(frozen=True)
class Spring:
    campaign: int
    contacts: list[int]  # c0 … c9
    deliveries: list[int]


def at(hours: float, base: dt.datetime = T0) -> dt.datetime:
    return base + dt.timedelta(hours=hours)


def opened(
    contact: int,
    campaign: int,
    hours: float,
    device: str,
    client: str,
    *,
    machine: bool = False,
    delivery: int = 0,
    base: dt.datetime = T0,
) -> Event:
    data: dict[str, Any] = {
        "delivery": delivery,
        "machine": machine,
        "device": device,
        "client": client,
    }
    return Event.objects.create(
        contact_id=contact,
        type=EventType.OPENED,
        occurred_at=at(hours, base),
        campaign_id=campaign,
        data=data,
    )


def clicked(  # noqa: PLR0917 - reads as the event it writes
    contact: int,
    campaign: int,
    hours: float,
    url: str,
    device: str,
    client: str,
    *,
    scanner: bool = False,
    link: int | None = None,
    base: dt.datetime = T0,
) -> Event:
    data: dict[str, Any] = {
        "delivery": 0,
        "link": link if link is not None else 0,
        "url": url,
        "scanner": scanner,
        "device": device,
        "client": client,
    }
    return Event.objects.create(
        contact_id=contact,
        type=EventType.CLICKED,
        occurred_at=at(hours, base),
        campaign_id=campaign,
        data=data,
    )


def attributed_order(contact: Contact, campaign: int, total: str, currency: str) -> None:
    order = make_order(contact, total=Decimal(total), currency=currency, placed_at=at(30))
    Event.objects.filter(order=order, type=EventType.ORDERED).update(
        campaign_id=campaign,
        data={
            "attribution": {
                "touch": "click",
                "touch_event": 0,
                "rule": "last_touch",
                "window_hours": 72,
            }
        },
    )


def make_spring(name: str = "Spring") -> Spring:
    """The campaign; another name gives other contacts (``first.c0@gmail.com``)."""
    emails = EMAILS if name == "Spring" else [f"{name.lower()}.{email}" for email in EMAILS]
    campaign = started_campaign(emails, name=name)
    contacts = [Contact.objects.get(email=email).pk for email in emails]
    Contact.objects.filter(pk=contacts[0]).update(timezone="Asia/Shanghai")
    deliveries = [Delivery.objects.get(campaign_id=campaign, contact_id=c).pk for c in contacts]
    Delivery.objects.filter(pk__in=deliveries[:8]).update(state=DeliveryState.SENT, sent_at=at(0))
    Delivery.objects.filter(pk=deliveries[8]).update(state=DeliveryState.FAILED)
    Delivery.objects.filter(pk=deliveries[9]).update(state=DeliveryState.SKIPPED)
    Delivery.objects.filter(pk=deliveries[6]).update(was_capped=True)
    for key, kind, i, source in (
        (f"smtp:{campaign}", BounceKind.HARD, 8, "smtp"),
        (f"imap:{campaign}", BounceKind.SOFT, 7, "imap"),
        (f"imap:{campaign}-delay", BounceKind.DELAYED, 7, "imap"),
    ):
        Bounce.objects.create(
            key=key,
            kind=kind,
            delivery_id=deliveries[i],
            campaign_id=campaign,
            email=emails[i],
            source=source,
        )
    Campaign.objects.filter(pk=campaign).update(
        state=CampaignState.SENT, started_at=T0, finished_at=at(1)
    )
    c = contacts
    opened(c[0], campaign, 1 + 10 / 60, "desktop", "Apple Mail")
    opened(c[0], campaign, 2, "mobile", "Gmail")
    clicked(c[0], campaign, 2 + 5 / 60, LINK_A, "mobile", "Gmail", link=1)
    opened(c[1], campaign, 1 / 60, "unknown", "Apple Mail", machine=True)
    opened(c[2], campaign, 3, "mobile", "Gmail")
    clicked(c[2], campaign, 2 / 60, LINK_A, "unknown", "", scanner=True, link=1)
    clicked(c[3], campaign, 5, LINK_B, "desktop", "Outlook", link=2)
    opened(c[4], campaign, 26, "tablet", "Apple Mail")
    clicked(c[4], campaign, 26 + 10 / 60, LINK_A, "tablet", "Apple Mail", link=1)
    clicked(c[4], campaign, 27, LINK_B, "tablet", "Apple Mail", link=2)
    Event.objects.create(
        contact_id=c[5], type=EventType.UNSUBSCRIBED, occurred_at=at(4), campaign_id=campaign
    )
    opened(c[6], campaign, 1.5, "desktop", "Outlook")
    Event.objects.create(
        contact_id=c[6], type=EventType.COMPLAINED, occurred_at=at(6), campaign_id=campaign
    )
    people = {pk: Contact.objects.get(pk=pk) for pk in c}
    attributed_order(people[c[0]], campaign, "100.00", "CNY")
    attributed_order(people[c[4]], campaign, "50.00", "USD")
    attributed_order(people[c[4]], campaign, "20.00", "USD")
    make_order(people[c[5]], total=Decimal("30.00"), currency="CNY", placed_at=at(30))
    return Spring(campaign=campaign, contacts=contacts, deliveries=deliveries)


def sent_yesterday(name: str, openers: int, clickers: int) -> int:
    """A campaign sent yesterday to ``MIN_DELIVERED`` people, some of whom opened and clicked."""
    yesterday = timezone.now() - dt.timedelta(days=1)
    emails = [f"{name}{i}@example.com" for i in range(MIN_DELIVERED)]
    campaign = started_campaign(emails, name=name)
    Delivery.objects.filter(campaign_id=campaign).update(
        state=DeliveryState.SENT, sent_at=yesterday
    )
    Campaign.objects.filter(pk=campaign).update(state=CampaignState.SENT, started_at=yesterday)
    contacts = list(Contact.objects.filter(email__startswith=name).values_list("pk", flat=True))
    for i, contact in enumerate(contacts[:openers]):
        opened(contact, campaign, 1, "desktop", "Gmail", base=yesterday)
        if i < clickers:
            clicked(
                contact,
                campaign,
                2,
                "https://example.com/",
                "desktop",
                "Gmail",
                link=1,
                base=yesterday,
            )
    return campaign
