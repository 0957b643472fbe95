"""Plain functions that make test data; each takes overrides for what a test cares about."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.roles import Role
from rapport.crm.models import Contact, Event, EventType, Order, OrderLine, Product
from rapport.crm.names import search_key

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_user(role: str = Role.OWNER, **overrides: Any) -> User:
    n = next(_counter)
    fields: dict[str, Any] = {
        "username": f"{role}{n}",
        "email": f"{role}{n}@example.com",
        "role": role,
    }
    fields.update(overrides)
    user = User(**fields)
    user.set_password(overrides.pop("password", PASSWORD))
    user.save()
    return user


def make_contact(**overrides: Any) -> Contact:
    n = next(_counter)
    fields: dict[str, Any] = {
        "email": f"contact{n}@example.com",
        "given_name": "Wei",
        "family_name": "Zhang",
        "country": "CN",
        "city": "Shanghai",
    }
    fields.update(overrides)
    fields.setdefault("search_name", search_key(fields["given_name"], fields["family_name"]))
    return Contact.objects.create(**fields)


def make_product(**overrides: Any) -> Product:
    n = next(_counter)
    fields: dict[str, Any] = {
        "sku": f"SKU-{n}",
        "name": f"Product {n}",
        "category": "camera",
        "price": Decimal("99.00"),
        "currency": "CNY",
    }
    fields.update(overrides)
    return Product.objects.create(**fields)


def make_order(contact: Contact, products: list[Product] | None = None, **overrides: Any) -> Order:
    n = next(_counter)
    products = products or []
    total = sum((p.price for p in products), Decimal("0"))
    fields: dict[str, Any] = {
        "external_id": f"ORD-{n}",
        "contact": contact,
        "placed_at": timezone.now() - dt.timedelta(days=1),
        "currency": "CNY",
        "total": total,
    }
    fields.update(overrides)
    order = Order.objects.create(**fields)
    for product in products:
        OrderLine.objects.create(
            order=order, product=product, sku=product.sku, quantity=1, unit_price=product.price
        )
    Event.objects.create(
        contact=contact, type=EventType.ORDERED, occurred_at=order.placed_at, order=order
    )
    return order


def started_campaign(emails: list[str], *, name: str = "News") -> int:
    """A campaign of the newsletter to a static list of subscribed contacts with these
    addresses, started (one queued delivery each); the postal address it needs is set."""
    from rapport.campaigns.services import create_campaign, start_campaign  # noqa: PLC0415
    from rapport.content.models import Workspace  # noqa: PLC0415
    from rapport.segments.models import Segment, SegmentKind, SegmentMember  # noqa: PLC0415

    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name=f"{name} list", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=listing, contact=make_contact(email=email, status="subscribed"))
        for email in emails
    )
    campaign = create_campaign(
        name=name, template="Newsletter (English)", audience=[listing.pk], acting_user=None
    )
    start_campaign(campaign.pk, acting_user=None)
    return campaign.pk
