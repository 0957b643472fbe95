"""One batch of demo customers with their orders and email history, as rows ready to insert.

Pure Python and a pure function of its ``BatchSpec`` (the seed and the batch number pick the
random stream), so batches come out the same in any process and in any order. Rows are
already in database form (times as text, JSON as text, money as "12.50"): at ten million
rows, converting values in the writing process would cost more than the inserts.

Times are whole seconds since the epoch until the row is made; ``anchor`` is "now".
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from functools import cache
from typing import Any, NamedTuple

from rapport.crm.importing.contacts import INSERT_FIELDS
from rapport.crm.names import search_key
from rapport.demo import catalogue as cat
from rapport.demo import places
from rapport.demo.names import email_local_part, person
from rapport.demo.newsletters import (
    CAMPAIGNS,
    DAY,
    Timeline,
    campaign_times,
    campaign_topic,
    email_history,
)

SPAN_DAYS = 730  # two years of history
LAPSED_AFTER = 120 * DAY  # a repeat buyer who stops this long before "now" counts as lapsed

# The same columns, in the same order, as the contacts import writes.
CONTACT_COLUMNS = INSERT_FIELDS
COMPANY_COLUMN = CONTACT_COLUMNS.index("company")
# The first column of orders and events is the contact's position in its batch, and the
# first of lines (and "order" of events) the order's position: the writer swaps in ids.
ORDER_COLUMNS = (
    "contact",
    "external_id",
    "placed_at",
    "currency",
    "total",
    "coupon_code",
    "source",
    "created_at",
)
LINE_COLUMNS = ("order", "product", "sku", "quantity", "unit_price")
EVENT_COLUMNS = ("contact", "type", "name", "occurred_at", "campaign_id", "order", "data")

_STATUSES = ("subscribed", "not_subscribed", "unsubscribed", "bounced", "pending", "complained")
_STATUS_WEIGHTS = (0.80, 0.08, 0.06, 0.03, 0.025, 0.005)
_EMAILED = frozenset({"subscribed", "unsubscribed", "bounced", "complained"})
_CONSENT_SOURCES = (
    "website signup form",
    "checkout opt-in",
    "in-store tablet",
    "trade show",
    "referral programme",
)
_CN_CONSENT_SOURCES = (
    "website signup form",
    "checkout opt-in",
    "WeChat mini program",
    "trade show",
    "in-store tablet",
)
_COUPONS = (("SPRING15", 15), ("SUMMER15", 15), ("FREESHIP", 0), ("AUTUMN10", 10))


class BatchSpec(NamedTuple):
    seed: int
    batch: int  # the batch number: with the seed, it picks the random stream
    first_number: int  # the unique number of the batch's first contact (in its email)
    size: int
    anchor: int  # "now", in seconds since the epoch
    time_suffix: str  # "" for SQLite (naive UTC text), "+00:00" for PostgreSQL


class Batch(NamedTuple):
    contacts: list[tuple[Any, ...]]
    orders: list[tuple[Any, ...]]
    lines: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]


@cache
def _clock(suffix: str) -> tuple[str, ...]:
    return tuple(f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(DAY))


@cache
def _days(first_day: int, count: int) -> tuple[str, ...]:
    epoch = dt.date(1970, 1, 1)
    return tuple((epoch + dt.timedelta(days=first_day + n)).isoformat() for n in range(count))


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _Maker:
    """Generates one batch; holds the per-batch lookups so the per-contact code stays flat."""

    def __init__(self, spec: BatchSpec) -> None:
        self.spec = spec
        self.rng = random.Random(f"rapport-demo:{spec.seed}:{spec.batch}")  # noqa: S311 - not secret
        self.anchor = spec.anchor
        self.first_day = spec.anchor // DAY - SPAN_DAYS - 10
        self.day_text: tuple[str, ...] = _days(self.first_day, SPAN_DAYS + 12)
        self.clock: tuple[str, ...] = _clock(spec.time_suffix)
        self.sends = campaign_times(spec.anchor)
        self.topics = tuple(campaign_topic(n) for n in range(1, CAMPAIGNS + 1))
        self.year = dt.datetime.fromtimestamp(spec.anchor, dt.UTC).year
        self.batch = Batch([], [], [], [])

    def when(self, ts: int) -> str:
        return self.day_text[ts // DAY - self.first_day] + self.clock[ts % DAY]

    def run(self) -> Batch:
        for position in range(self.spec.size):
            self.contact(position)
        return self.batch

    def contact(self, position: int) -> None:  # noqa: PLR0915 - one person, top to bottom
        rng, anchor = self.rng, self.anchor
        number = self.spec.first_number + position
        country = rng.choices(places.COUNTRIES, places.COUNTRY_WEIGHTS)[0]
        city = rng.choice(country.cities)
        who = person(rng, country.code)
        chinese = country.code == "CN"
        audience = rng.choices(("b2b", "b2c", "nonprofit"), (0.2, 0.7, 0.1))[0]
        organisation: int | None = None
        domain = rng.choice(country.domains)
        if audience == "b2b" or (audience == "nonprofit" and rng.random() < 0.5):
            organisation = rng.choice(
                places.ORGANISATIONS_BY_KIND[chinese, audience == "nonprofit"]
            )
            domain = places.ORGANISATIONS[organisation].domain
        email = f"{email_local_part(rng, who, number)}@{domain}"
        honorific = rng.choices(
            ("ms" if who.female else "mr", "", "dr", "mx"), (0.75, 0.2, 0.04, 0.01)
        )[0]
        birthday, year_known = self.birthday()
        interests = rng.sample(cat.INTERESTS, rng.choices((1, 2, 3), (0.4, 0.4, 0.2))[0])
        status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
        span = (14 if status == "pending" else SPAN_DAYS) * DAY
        created = anchor - 3600 - rng.randrange(span)

        orders = self.orders(created, interests, buyer=status == "not_subscribed")
        timeline: Timeline = []
        spent = 0
        for sequence, (when, lines, coupon, percent) in enumerate(orders, start=1):
            order_position = len(self.batch.orders)
            total = 0
            for item, quantity in lines:
                product = cat.ITEMS[item]
                price = product.cny_cents if chinese else product.usd_cents
                price = price * (100 - percent) // 100
                total += price * quantity
                self.batch.lines.append(
                    (order_position, item, product.sku, quantity, _money(price))
                )
            text = self.when(when)
            self.batch.orders.append(
                (
                    position,
                    f"SO{number:07d}-{sequence:02d}",
                    text,
                    country.currency,
                    _money(total),
                    coupon,
                    "demo",
                    text,
                )
            )
            data = f'{{"total": "{_money(total)}", "currency": "{country.currency}"}}'
            timeline.append((when, "ordered", None, data, order_position))
            spent += total if chinese else total * 7

        consent_at = created + rng.randrange(5, 120)
        changed = created
        if status in _EMAILED:
            status, changed = email_history(
                self.rng,
                self.sends,
                self.topics,
                anchor=anchor,
                number=number,
                consent_at=consent_at,
                interests=interests,
                status=status,
                timeline=timeline,
            )
        timeline.sort(key=lambda event: event[0])
        for when, kind, campaign, data, order_ref in timeline:
            self.batch.events.append(
                (position, kind, "", self.when(when), campaign, order_ref, data)
            )

        tags = []
        if spent >= 2_000_000:
            tags.append("vip")
        if audience == "b2b" and rng.random() < 0.3:
            tags.append("wholesale")
        if rng.random() < 0.25:
            tags.append(rng.choice(("newsletter", "instore", "referral", "event", "beta")))
        consented = status not in {"not_subscribed", "pending"}
        sources = _CN_CONSENT_SOURCES if chinese else _CONSENT_SOURCES
        consent_source = (
            rng.choice(sources)
            if consented
            else "signup form, awaiting confirmation"
            if status == "pending"
            else ""
        )
        self.batch.contacts.append(
            (
                email,
                who.given,
                who.family,
                honorific,
                search_key(who.given, who.family),
                places.phone(rng, country, city) if rng.random() < 0.8 else "",
                birthday,
                year_known,
                country.locale if city.name != "Montreal" else "fr-CA",
                city.timezone,
                country.code,
                city.region,
                city.name,
                audience,
                organisation,
                json.dumps(interests),
                json.dumps(tags),
                "{}",
                status,
                consent_source,
                self.when(consent_at) if consented else None,
                rng.random() > 0.03,
                "demo",
                self.when(created),
                self.when(changed),
            )
        )

    def birthday(self) -> tuple[str | None, bool]:
        rng = self.rng
        if rng.random() < 0.35:
            return None, True
        year = self.year - rng.randint(18, 70)
        day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        if rng.random() < 0.3:  # given as "3月8日", without the year
            return day.replace(year=1904).isoformat(), False
        return day.isoformat(), True

    def orders(
        self, created: int, interests: list[str], *, buyer: bool
    ) -> list[tuple[int, list[tuple[int, int]], str, int]]:
        """Order times and baskets: never, once, or again every personal interval."""
        rng, anchor = self.rng, self.anchor
        kind = rng.random()
        if kind < 0.3 and not buyer:
            return []
        delay = (
            rng.randrange(6 * 3600) if rng.random() < 0.45 else int(rng.expovariate(1 / (45 * DAY)))
        )
        first = created + 60 + delay
        if first >= anchor:
            return []
        times = [first]
        if kind >= 0.6:
            interval = min(200 * DAY, max(10 * DAY, rng.lognormvariate(math.log(50 * DAY), 0.5)))
            end = anchor
            if rng.random() < 0.35 and anchor - LAPSED_AFTER > first:
                end = first + int(rng.random() * (anchor - LAPSED_AFTER - first)) + 1
            when = first
            while len(times) < 60:
                when += int(interval * rng.uniform(0.6, 1.4))
                if when >= end:
                    break
                times.append(when)
        owned: dict[str, int] = {}
        result = []
        for n, when in enumerate(times):
            coupon, percent = "", 0
            if n == 0 and rng.random() < 0.2:
                coupon, percent = "WELCOME10", 10
            elif n >= 4 and rng.random() < 0.1:
                coupon, percent = "VIP20", 20
            elif rng.random() < 0.06:
                coupon, percent = rng.choice(_COUPONS)
            result.append((when, self.basket(owned, interests, first=n == 0), coupon, percent))
        return result

    def basket(
        self, owned: dict[str, int], interests: list[str], *, first: bool
    ) -> list[tuple[int, int]]:
        """What goes in one order: something new for an interest, or what follows an owned
        category (a lens after a camera, beans after a coffee machine)."""
        rng = self.rng
        options: list[str] = []
        weights: list[float] = []
        if not first:
            for owned_category in owned:
                for category, weight in cat.FOLLOW_UPS.get(owned_category, ()):
                    if cat.repeatable(category) or owned.get(category, 0) < 2:
                        options.append(category)
                        weights.append(
                            weight
                            * (0.3 if category in owned and not cat.repeatable(category) else 1)
                        )
        if first or not options or rng.random() < 0.15:
            category = rng.choice(cat.ANCHORS[rng.choice(interests)])
            picks = [category]
            for follow, weight in cat.FOLLOW_UPS.get(category, ()):
                if rng.random() < weight * 0.25:
                    picks.append(follow)
        else:
            picks = rng.choices(options, weights, k=2 if rng.random() < 0.3 else 1)
        lines: dict[int, int] = {}
        for category in picks:
            item = rng.choice(cat.BY_CATEGORY[category])
            quantity = rng.choice((1, 1, 2, 3)) if cat.ITEMS[item].consumable else 1
            lines[item] = lines.get(item, 0) + quantity
            owned[category] = owned.get(category, 0) + 1
        return list(lines.items())


def generate_batch(spec: BatchSpec) -> Batch:
    return _Maker(spec).run()
