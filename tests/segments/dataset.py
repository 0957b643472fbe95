"""A small, varied customer base for checking segments: every field has matches and misses."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from rapport.crm.models import Company, Contact, CustomField, Event, Order, OrderLine, Product
from rapport.segments.facts import rebuild_all_facts, rescore

NOW = dt.datetime(2027, 3, 10, 9, 30, tzinfo=dt.UTC)
CITIES = ["Shanghai", "上海", "Beijing", "London", "Lyon", "shanghai"]
COUNTRIES = ["CN", "CN", "GB", "FR", "SG"]
INTERESTS = ["photo", "travel", "coffee", "hiking", "摄影"]
TAGS = ["vip", "fair-2026", "wholesale"]
STATUSES = ["subscribed", "subscribed", "unsubscribed", "not_subscribed", "bounced", "pending"]
SKUS = [("CAM", "camera"), ("LENS", "lens"), ("TRIPOD", "accessory"), ("BEANS", "coffee")]
EVENT_TYPES = ["sent", "opened", "clicked"]


def build(seed: int = 3, contacts: int = 70) -> None:
    rng = random.Random(seed)
    CustomField.objects.bulk_create(
        [
            CustomField(key="tier", label="Tier", type="choice", choices=["gold", "silver"]),
            CustomField(key="score", label="Score", type="number"),
            CustomField(key="joined", label="Joined", type="date"),
            CustomField(key="vip", label="VIP", type="boolean"),
            CustomField(key="note", label="Note", type="text"),
        ]
    )
    acme = Company.objects.create(name="Acme")
    products = {
        sku: Product.objects.create(sku=sku, name=sku, category=cat, price=10) for sku, cat in SKUS
    }
    for i in range(contacts):
        custom: dict[str, object] = {}
        if rng.random() < 0.6:
            custom["tier"] = rng.choice(["gold", "silver"])
        if rng.random() < 0.6:
            custom["score"] = rng.choice([1, 2, 2.5, 7, 10])
        if rng.random() < 0.6:
            custom["joined"] = (
                dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(500))
            ).isoformat()
        if rng.random() < 0.5:
            custom["vip"] = rng.random() < 0.5
        if rng.random() < 0.5:
            custom["note"] = rng.choice(["call back", "VIP lounge", "新客户"])
        birthday = None
        if rng.random() < 0.8:
            birthday = rng.choice(
                [
                    dt.date(1990, 3, 10),
                    dt.date(1988, 3, 12),
                    dt.date(1976, 2, 29),
                    dt.date(1904, 12, 31),
                    dt.date(2000, 1, 1),
                    dt.date(1985, 3, 9),
                ]
            )
        contact = Contact.objects.create(
            email=f"p{i}@example.com",
            given_name=rng.choice(["Wei", "Ann", "伟", ""]),
            family_name=rng.choice(["Zhang", "Smith", "张", ""]),
            city=rng.choice([*CITIES, ""]),
            country=rng.choice([*COUNTRIES, ""]),
            audience=rng.choice(["b2b", "b2c", "nonprofit"]),
            status=rng.choice(STATUSES),
            interests=rng.sample(INTERESTS, rng.randrange(3)),
            tags=rng.sample(TAGS, rng.randrange(2)),
            company=acme if rng.random() < 0.3 else None,
            birthday=birthday,
            custom=custom,
        )
        Contact.objects.filter(pk=contact.pk).update(
            created_at=NOW - dt.timedelta(days=rng.randrange(700), hours=rng.randrange(24))
        )
        for n in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
            placed = NOW - dt.timedelta(days=rng.randrange(400), hours=rng.randrange(24))
            lines = rng.sample(SKUS, rng.randrange(1, 3))
            total = Decimal(rng.choice([10, 25, 99, 250]))
            order = Order.objects.create(
                external_id=f"o{i}-{n}",
                contact=contact,
                placed_at=placed,
                total=total,
                currency="CNY",
            )
            for sku, _ in lines:
                OrderLine.objects.create(order=order, product=products[sku], sku=sku)
        for _ in range(rng.choice([0, 1, 3, 6])):
            Event.objects.create(
                contact=contact,
                type=rng.choice(EVENT_TYPES),
                occurred_at=NOW - dt.timedelta(days=rng.randrange(120), hours=rng.randrange(24)),
            )
    rebuild_all_facts()
    rescore(NOW)
