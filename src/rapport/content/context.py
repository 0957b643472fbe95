"""The data a template sees, built for a batch of contacts in a handful of queries.

Templates get plain dicts and lists (see CONTEXT.md), never model instances: a template cannot
follow a relation, call ``save()`` or read a field it was not given. The queries a batch needs
depend on what the template uses (``Usage``): a newsletter that shows no last order does not
load orders.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db.models import Q

from rapport.content import formatting
from rapport.content.checks import Usage
from rapport.content.links import contact_link
from rapport.content.models import Workspace
from rapport.content.recommend import RecommendedProduct, Recommender, purchases_for
from rapport.crm.models import Contact, Order, OrderLine
from rapport.crm.names import display_name
from rapport.segments.facts import lifecycle_stage
from rapport.segments.models import LifecycleSettings

_CONTACT_COLUMNS = (
    "id", "email", "given_name", "family_name", "honorific", "city", "region", "country",
    "locale", "timezone", "audience", "birthday", "interests", "custom", "personalisation",
    "company__name", "facts__first_order_at", "facts__lapses_at", "facts__order_count",
    "facts__total_spent", "facts__last_order_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sender:
    """What is sending: ``key`` goes into links and coupon codes ("campaign:12"), ``name`` is
    shown as ``campaign.name``."""

    key: str
    name: str = ""


CouponLookup = Callable[[str, int], str]  # (series, contact id) -> code


@lru_cache(maxsize=512)
def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


@lru_cache(maxsize=4096)
def _country_name(country: str, locale: str) -> str:
    territories = formatting.babel_locale(locale).territories
    return str(territories.get(country, country)) if country else ""


class ContextBuilder:
    """Builds the context of each contact in a batch; one instance per send or preview."""

    def __init__(
        self,
        *,
        sender: Sender,
        usage: Usage,
        now: dt.datetime,
        recommender: Recommender | None = None,
        coupons: CouponLookup | None = None,
    ) -> None:
        self.sender = sender
        self.usage = usage
        self.now = now
        self.recommender = recommender
        self.coupons = coupons
        workspace = Workspace.current()
        self.workspace = {
            "name": workspace.name,
            "address": workspace.postal_address,
            "website": workspace.website,
        }
        self.default_locale = workspace.locale
        self.campaign = {"name": sender.name}
        self.new_days = LifecycleSettings.current().new_days

    def build(self, contact_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Contexts in the order of ``contact_ids``; unknown ids are left out."""
        rows = {
            row[0]: row
            for row in Contact.objects.filter(pk__in=contact_ids).values_list(*_CONTACT_COLUMNS)
        }
        fields = self.usage.contact_fields
        last_orders = self._last_orders(rows.values()) if "last_order" in fields else {}
        purchases = (
            purchases_for(list(rows)) if self.usage.recommendations and self.recommender else {}
        )
        return [
            self._context(rows[cid], last_orders.get(cid), purchases.get(cid, []))
            for cid in contact_ids
            if cid in rows
        ]

    def _last_orders(self, rows: Any) -> dict[int, dict[str, Any]]:
        wanted = {(row[0], row[20]) for row in rows if row[20] is not None}
        if not wanted:
            return {}
        query = Q()
        for contact_id, placed_at in wanted:
            query |= Q(contact_id=contact_id, placed_at=placed_at)
        orders: dict[int, dict[str, Any]] = {}
        by_pk: dict[int, dict[str, Any]] = {}
        for pk, contact_id, number, placed_at, total, currency in (
            Order.objects.filter(query)
            .order_by("pk")
            .values_list("pk", "contact_id", "external_id", "placed_at", "total", "currency")
        ):
            order = {
                "number": number,
                "date": placed_at,
                "total": total,
                "currency": currency,
                "items": [],
            }
            orders[contact_id] = by_pk[pk] = order
        for order_id, name, sku in OrderLine.objects.filter(order_id__in=by_pk).values_list(
            "order_id", "product__name", "sku"
        ):
            by_pk[order_id]["items"].append(name or sku)
        return orders

    def _context(
        self, row: tuple[Any, ...], last_order: dict[str, Any] | None, purchased: list[int]
    ) -> dict[str, Any]:
        (
            contact_id, email, given, family, honorific, city, region, country, locale,
            timezone_name, audience, birthday, interests, custom, personalised, company,
            first_order_at, lapses_at, order_count, total_spent, _last_order_at,
        ) = row  # fmt: skip
        locale = locale or self.default_locale
        stage = lifecycle_stage(first_order_at, lapses_at, order_count, self.now, self.new_days)
        contact: dict[str, Any] = {
            "email": email,
            "locale": locale,
            "timezone": timezone_name,
            "audience": audience,
            "country": country,
            "country_name": _country_name(country, locale),
            "lifecycle": stage,
            "points": 0,
            "orders_count": order_count or 0,
            "total_spent": total_spent if total_spent is not None else Decimal(0),
        }
        if personalised:
            contact.update(
                first_name=given,
                last_name=family,
                name=display_name(given, family, locale),
                salutation=formatting.salutation(honorific, given, family, locale),
                honorific=honorific,
                city=city,
                region=region,
                birthday=birthday,
                interests=interests,
                company=company or "",
                custom=custom,
                last_order=last_order,
            )
        else:  # the contact asked for the same email everyone gets
            contact.update(
                first_name="",
                last_name="",
                name="",
                salutation=formatting.generic_salutation(locale),
                honorific="",
                city="",
                region="",
                birthday=None,
                interests=[],
                company="",
                custom={},
                last_order=None,
            )
        source = self.sender.key
        return {
            "contact": contact,
            "workspace": self.workspace,
            "campaign": self.campaign,
            "unsubscribe_url": contact_link("unsubscribe", contact_id, source),
            "preferences_url": contact_link("preferences", contact_id, source),
            "view_online_url": contact_link("view", contact_id, source),
            "today": self.now.astimezone(_zone(timezone_name)).date(),
            "recommendations": self._recommendations(
                purchased if personalised else [], interests if personalised else []
            ),
            "coupon": self._coupon(contact_id),
        }

    def _recommendations(
        self, purchased: list[int], interests: list[str]
    ) -> Callable[..., list[RecommendedProduct]]:
        recommender = self.recommender

        def recommendations(n: int = 4) -> list[RecommendedProduct]:
            if recommender is None:
                return []
            if not purchased and not interests:
                return recommender.generic(n)
            return recommender.recommend(purchased, interests, n)

        return recommendations

    def _coupon(self, contact_id: int) -> Callable[[str], str]:
        lookup = self.coupons

        def coupon(series: str) -> str:
            return lookup(series, contact_id) if lookup is not None else ""

        return coupon


def sample_context(usage: Usage, locale: str = "en") -> Mapping[str, Any]:
    """A made-up contact with every field filled, for checking a template before it is saved."""
    now = dt.datetime.now(dt.UTC)
    chinese = formatting.language_of(locale) == "zh"
    given, family = ("伟", "李") if chinese else ("Wei", "Li")
    product = RecommendedProduct(
        id=0,
        sku="SAMPLE-1",
        name="Sample product",
        category="sample",
        price=Decimal("99.00"),
        currency="CNY",
        url="https://example.com/p/sample",
        image_url="",
    )
    return {
        "contact": {
            "email": "li.wei@example.com",
            "first_name": given,
            "last_name": family,
            "name": display_name(given, family, locale),
            "salutation": formatting.salutation("ms", given, family, locale),
            "honorific": "ms",
            "city": "上海" if chinese else "Shanghai",
            "region": "",
            "country": "CN",
            "country_name": _country_name("CN", locale),
            "locale": locale,
            "timezone": "Asia/Shanghai",
            "audience": "b2c",
            "lifecycle": "returning",
            "points": 120,
            "birthday": dt.date(1990, 2, 10),
            "interests": ["photography"],
            "company": "",
            "custom": {},
            "orders_count": 3,
            "total_spent": Decimal("1299.00"),
            "last_order": {
                "number": "SAMPLE-1001",
                "date": now,
                "total": Decimal("499.00"),
                "currency": "CNY",
                "items": ["Sample product"],
            },
        },
        "workspace": {"name": "Sample shop", "address": "1 Sample Road", "website": ""},
        "campaign": {"name": "Sample"},
        "unsubscribe_url": "https://example.com/e/unsubscribe/sample",
        "preferences_url": "https://example.com/e/preferences/sample",
        "view_online_url": "https://example.com/e/view/sample",
        "today": now.date(),
        "recommendations": lambda n=4: [product] * min(n, 12),
        "coupon": lambda series: f"{series}-SAMPLE",
    }
