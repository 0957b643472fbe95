"""Read queries behind the dashboard: a handful of counts and two short lists.

Every count here is either over a whole table or over an indexed column, so the page stays
a few milliseconds' work at a million contacts. Revenue is grouped by currency because a shop
selling in CNY and USD has no single total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from rapport.crm.models import Contact, ContactStatus, ImportJob, Order
from rapport.crm.queries import recent_import_jobs

REVENUE_DAYS = 30


@dataclass(frozen=True)
class Revenue:
    currency: str
    total: Decimal


@dataclass(frozen=True)
class Dashboard:
    contacts: int
    subscribed: int
    orders: int
    revenue: list[Revenue]
    recent_imports: list[ImportJob]
    newest_contacts: list[Contact]


def revenue_since(since: dt.datetime) -> list[Revenue]:
    rows = (
        Order.objects.filter(placed_at__gte=since)
        .values_list("currency")
        .annotate(total=Sum("total"))
        .order_by("currency")
    )
    return [Revenue(currency=currency, total=total or Decimal(0)) for currency, total in rows]


def load_dashboard(*, with_imports: bool, newest: int = 8) -> Dashboard:
    """``with_imports`` is False for roles that may not see import jobs (one query fewer)."""
    since = timezone.now() - dt.timedelta(days=REVENUE_DAYS)
    return Dashboard(
        contacts=Contact.objects.count(),
        subscribed=Contact.objects.filter(status=ContactStatus.SUBSCRIBED).count(),
        orders=Order.objects.count(),
        revenue=revenue_since(since),
        recent_imports=recent_import_jobs(limit=5) if with_imports else [],
        newest_contacts=list(Contact.objects.order_by("-pk")[:newest]),
    )
