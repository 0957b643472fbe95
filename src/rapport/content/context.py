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

from django.conf import settings
from django.db.models import JSONField, Sum, Value

from rapport.automation.models import PointsEntry
from rapport.content import formatting
from rapport.content.checks import Usage
from rapport.content.coupons import issue_codes
from rapport.content.links import contact_link
from rapport.content.models import Workspace
from rapport.content.recommend import RecommendedProduct, Recommender
from rapport.crm.models import Contact, Order, OrderLine
from rapport.crm.names import display_name
from rapport.segments.facts import lifecycle_stage
from rapport.segments.models import LifecycleSettings

_CONTACT_COLUMNS = (
    "id", "email", "given_name", "family_name", "honorific", "city", "region", "country",
    "locale", "timezone", "audience", "birthday", "interests", "custom", "personalisation",
    "company__name", "facts__first_order_at", "facts__lapses_at", "facts__order_count",
    "facts__total_spent",
)  # fmt: skip


_LINKS = (
    ("unsubscribe_url", "unsubscribe"),
    ("preferences_url", "preferences"),
    ("view_online_url", "view"),
)


def _columns_for(usage: Usage) -> list[Any]:
    """The contact columns to load: those the template never shows are replaced by a NULL, so
    no JSON is parsed and no date converted for them (that is most of the cost of a batch)."""
    fields = usage.contact_fields
    lifecycle = "lifecycle" in fields
    needed = {
        "custom": "custom" in fields,
        "interests": "interests" in fields or usage.recommendations > 0,
        "company__name": "company" in fields,
        "birthday": "birthday" in fields,
        "facts__first_order_at": lifecycle,
        "facts__lapses_at": lifecycle,
        "facts__order_count": lifecycle or "orders_count" in fields,
        "facts__total_spent": "total_spent" in fields,
    }
    return [
        column if needed.get(column, True) else Value(None, output_field=JSONField())
        for column in _CONTACT_COLUMNS
    ]


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
        issue_coupons: bool = False,
        links: frozenset[str] = frozenset(),
    ) -> None:
        """``coupons`` answers ``coupon("SERIES")`` (previews show existing codes); with
        ``issue_coupons`` each batch issues the codes its template uses, one per contact and
        sender, before rendering, in one insert per series. ``links`` are made even if the
        template does not show them (a send's List-Unsubscribe header needs its link)."""
        self.issue_coupons = issue_coupons
        self._issued: dict[str, dict[int, str]] = {}
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
        self._products: dict[int, dict[str, Any]] = {}
        self._columns = _columns_for(usage)
        self.wants_lifecycle = "lifecycle" in usage.contact_fields
        self.wants_country_name = "country_name" in usage.contact_fields
        self.wants_points = "points" in usage.contact_fields
        self.wants_today = "today" in usage.names or not usage.names
        self.base_url: str = settings.BASE_URL
        self._links = tuple(
            (name, kind)
            for name, kind in _LINKS
            if name in usage.names or name in links or not usage.names
        )

    def build(
        self, contact_ids: Sequence[int], *, coupon_key: str | None = None
    ) -> list[dict[str, Any]]:
        """Contexts in the order of ``contact_ids``; unknown ids are left out. Coupon codes are
        issued for ``coupon_key`` (default: the sender's key)."""
        rows = {
            row[0]: row
            for row in Contact.objects.filter(pk__in=contact_ids).values_list(*self._columns)
        }
        if self.issue_coupons:
            self._issued = {
                series: issue_codes(series, list(rows), coupon_key or self.sender.key)
                for series in sorted(self.usage.coupon_series)
            }
        wants_last_order = "last_order" in self.usage.contact_fields
        wants_purchases = bool(self.usage.recommendations and self.recommender)
        purchases, last_orders = (
            self._history(list(rows), last_order=wants_last_order)
            if wants_last_order or wants_purchases
            else ({}, {})
        )
        points = _points_balances(list(rows)) if self.wants_points else {}
        return [
            self._context(rows[cid], last_orders.get(cid), purchases.get(cid, []), points)
            for cid in contact_ids
            if cid in rows
        ]

    def _history(
        self, contact_ids: list[int], *, last_order: bool
    ) -> tuple[dict[int, list[int]], dict[int, dict[str, Any]]]:
        """What each contact bought (product ids, oldest first, each once at its latest
        purchase, as ``recommend.purchases_for``) and their newest order, from one pass over
        their order lines plus one lookup of those orders."""
        bought: dict[int, dict[int, None]] = {pk: {} for pk in contact_ids}
        newest: dict[int, int] = {}
        items: dict[int, list[str]] = {}
        for contact_id, order_id, product_id, name, sku in (
            OrderLine.objects.filter(order__contact_id__in=contact_ids)
            .order_by("order__placed_at", "order_id", "id")
            .values_list("order__contact_id", "order_id", "product_id", "product__name", "sku")
        ):
            if product_id is not None:
                owned = bought[contact_id]
                owned.pop(product_id, None)
                owned[product_id] = None
            if newest.get(contact_id) != order_id:
                newest[contact_id] = order_id
                items[order_id] = []
            items[order_id].append(name or sku)
        orders: dict[int, dict[str, Any]] = {}
        if last_order and newest:
            for pk, contact_id, number, placed_at, total, currency in Order.objects.filter(
                pk__in=list(newest.values())
            ).values_list("pk", "contact_id", "external_id", "placed_at", "total", "currency"):
                orders[contact_id] = {
                    "number": number,
                    "date": placed_at,
                    "total": total,
                    "currency": currency,
                    "items": items[pk],
                }
        return {pk: list(owned) for pk, owned in bought.items()}, orders

    def _context(
        self,
        row: tuple[Any, ...],
        last_order: dict[str, Any] | None,
        purchased: list[int],
        points: dict[int, int],
    ) -> dict[str, Any]:
        (
            contact_id, email, given, family, honorific, city, region, country, locale,
            timezone_name, audience, birthday, interests, custom, personalised, company,
            first_order_at, lapses_at, order_count, total_spent,
        ) = row  # fmt: skip
        locale = locale or self.default_locale
        stage = (
            lifecycle_stage(first_order_at, lapses_at, order_count, self.now, self.new_days)
            if self.wants_lifecycle
            else ""
        )
        contact: dict[str, Any] = {
            "email": email,
            "locale": locale,
            "timezone": timezone_name,
            "audience": audience,
            "country": country,
            "country_name": _country_name(country, locale) if self.wants_country_name else "",
            "lifecycle": stage,
            "points": points.get(contact_id, 0),
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
                interests=interests or [],
                company=company or "",
                custom=custom or {},
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
        context: dict[str, Any] = {
            "contact": contact,
            "workspace": self.workspace,
            "campaign": self.campaign,
            "today": self.now.astimezone(_zone(timezone_name)).date() if self.wants_today else None,
            "recommendations": self._recommendations(
                purchased if personalised else [], (interests or []) if personalised else []
            ),
            "coupon": self._coupon(contact_id),
        }
        base_url = self.base_url
        for name, kind in self._links:  # signing costs; only the links the template shows
            context[name] = contact_link(kind, contact_id, source, base_url=base_url)
        return context

    def _recommendations(
        self, purchased: list[int], interests: list[str]
    ) -> Callable[..., list[dict[str, Any]]]:
        recommender = self.recommender
        shown = self._product_view

        chosen: dict[int, list[dict[str, Any]]] = {}  # the HTML and text parts ask alike

        def recommendations(n: int = 4) -> list[dict[str, Any]]:
            if n in chosen:
                return chosen[n]
            if recommender is None:
                products = []
            elif not purchased and not interests:
                products = [shown(p) for p in recommender.generic(n)]
            else:
                products = [shown(p) for p in recommender.recommend(purchased, interests, n)]
            chosen[n] = products
            return products

        return recommendations

    def _product_view(self, product: RecommendedProduct) -> dict[str, Any]:
        """A product as templates see it: a plain dict, made once per product per send."""
        view = self._products.get(product.id)
        if view is None:
            view = self._products[product.id] = product_view(product)
        return view

    def _coupon(self, contact_id: int) -> Callable[[str], str]:
        lookup = self.coupons
        issued = self._issued

        def coupon(series: str) -> str:
            if series in issued:
                return issued[series].get(contact_id, "")
            return lookup(series, contact_id) if lookup is not None else ""

        return coupon


def product_view(product: RecommendedProduct) -> dict[str, Any]:
    return {
        "name": product.name,
        "sku": product.sku,
        "category": product.category,
        "price": product.price,
        "currency": product.currency,
        "url": product.url,
        "image_url": product.image_url,
    }


def _points_balances(contact_ids: list[int]) -> dict[int, int]:
    """Each contact's loyalty points: the sum of their ledger rows, one grouped query a batch."""
    return dict(
        PointsEntry.objects.filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(balance=Sum("points"))
        .values_list("contact_id", "balance")
    )


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
        "recommendations": lambda n=4: [product_view(product)] * min(n, 12),
        "coupon": lambda series: f"{series}-SAMPLE",
    }
