"""Read queries behind the dashboard: a handful of counts and two short lists.

The counts read most of the contact table (counting 600,000 subscribed contacts of a million
took 150-240 ms on SQLite, which plans a full scan), so they are cached for a minute: a summary
may lag that much, the page should not. Revenue is grouped by currency because a shop selling
in CNY and USD has no single total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from rapport.analytics.dashboard import PERIODS, Overview, overview
from rapport.crm.models import Contact, ContactStatus, ImportJob, Order
from rapport.crm.queries import recent_import_jobs

REVENUE_DAYS = 30
COUNTS_CACHE_KEY = "web:dashboard:counts"
COUNTS_CACHE_SECONDS = 60
ENGAGEMENT_CACHE_KEY = "web:dashboard:engagement:{days}"


@dataclass(frozen=True)
class Revenue:
    currency: str
    total: Decimal


@dataclass(frozen=True)
class Counts:
    contacts: int
    subscribed: int
    orders: int
    revenue: list[Revenue]


@dataclass(frozen=True)
class Dashboard:
    counts: Counts
    recent_imports: list[ImportJob]
    newest_contacts: list[Contact]
    engagement: Overview | None = None


def revenue_since(since: dt.datetime) -> list[Revenue]:
    rows = (
        Order.objects.filter(placed_at__gte=since)
        .values_list("currency")
        .annotate(total=Sum("total"))
        .order_by("currency")
    )
    return [Revenue(currency=currency, total=total or Decimal(0)) for currency, total in rows]


def count_everything() -> Counts:
    since = timezone.now() - dt.timedelta(days=REVENUE_DAYS)
    return Counts(
        contacts=Contact.objects.count(),
        subscribed=Contact.objects.filter(status=ContactStatus.SUBSCRIBED).count(),
        orders=Order.objects.count(),
        revenue=revenue_since(since),
    )


def engagement_overview(days: int) -> Overview:
    """Sending, engagement, conversions, growth and the heatmap (``rapport.analytics``),
    cached like the counts: a minute behind at most."""
    days = days if days in PERIODS else PERIODS[0]
    key = ENGAGEMENT_CACHE_KEY.format(days=days)
    found = cache.get(key)
    if not isinstance(found, Overview):
        found = overview(days)
        cache.set(key, found, COUNTS_CACHE_SECONDS)
    return found


def load_dashboard(
    *, with_imports: bool, newest: int = 8, with_reports: bool = False, days: int = 30
) -> Dashboard:
    """``with_imports`` is False for roles that may not see import jobs (one query fewer);
    ``with_reports`` adds the engagement overview of the last ``days`` (30 or 90)."""
    counts = cache.get(COUNTS_CACHE_KEY)
    if not isinstance(counts, Counts):
        counts = count_everything()
        cache.set(COUNTS_CACHE_KEY, counts, COUNTS_CACHE_SECONDS)
    return Dashboard(
        counts=counts,
        recent_imports=recent_import_jobs(limit=5) if with_imports else [],
        newest_contacts=list(Contact.objects.order_by("-pk")[:newest]),
        engagement=engagement_overview(days) if with_reports else None,
    )
