"""Lifecycle and RFM facts per buyer, kept fresh incrementally.

``refresh_facts(contact_ids)`` recomputes the rows of just those buyers from their orders
(one query, however many orders they have), so an order import refreshes only the buyers
in each batch. ``rescore`` recomputes the RFM quintile cut points over all buyers and
re-scores everyone in three UPDATE statements; the scheduler runs it daily, and a refresh in
between scores against the last cut points.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.utils import timezone

from rapport.crm.models import Contact, Order
from rapport.segments.models import ContactFacts, LifecycleSettings

METRICS = {"r": "last_order_at", "f": "order_count", "m": "total_spent"}


def score(value: Any, cuts: Sequence[Any]) -> int:
    """1 + how many cut points lie strictly below the value: 1 (lowest) to 5."""
    return 1 + sum(1 for cut in cuts if cut < value)


def _cuts(settings: LifecycleSettings) -> dict[str, list[Any]]:
    raw = settings.rfm_cuts or {}
    return {
        "r": [dt.datetime.fromisoformat(v) for v in raw.get("r", [])],
        "f": [int(v) for v in raw.get("f", [])],
        "m": [Decimal(v) for v in raw.get("m", [])],
    }


def compute_facts(
    contact_id: int,
    orders: Sequence[tuple[dt.datetime, Decimal]],
    settings: LifecycleSettings,
    cuts: dict[str, list[Any]],
) -> ContactFacts:
    """The facts of one buyer from their orders, sorted by time."""
    times = [placed for placed, _ in orders]
    first, last = times[0], times[-1]
    total = sum((amount for _, amount in orders), Decimal("0"))
    interval = None
    if len(times) >= max(2, settings.min_orders_for_interval):
        gaps = [(b - a).total_seconds() / 86400 for a, b in itertools.pairwise(times)]
        interval = statistics.median(gaps)
    lapse_days = (
        max(interval * settings.lapse_factor, 1.0)
        if interval is not None
        else float(settings.default_lapse_days)
    )
    return ContactFacts(
        contact_id=contact_id,
        first_order_at=first,
        last_order_at=last,
        order_count=len(times),
        total_spent=total,
        usual_interval_days=interval,
        lapses_at=last + dt.timedelta(days=lapse_days),
        r_score=score(last, cuts["r"]) if cuts["r"] else 0,
        f_score=score(len(times), cuts["f"]) if cuts["f"] else 0,
        m_score=score(total, cuts["m"]) if cuts["m"] else 0,
    )


def lifecycle_stage(
    first_order_at: dt.datetime | None,
    lapses_at: dt.datetime | None,
    order_count: int | None,
    now: dt.datetime,
    new_days: int,
) -> str:
    """The stage of one contact from their facts, as ``RuleCompiler.stage_filter`` defines it
    in SQL; a contact without facts has never bought."""
    if first_order_at is None or lapses_at is None:
        return "potential"
    if lapses_at < now:
        return "lapsed"
    if first_order_at >= now - dt.timedelta(days=new_days):
        return "new"
    return "returning" if (order_count or 0) >= 2 else "one_time"


@transaction.atomic
def refresh_facts(contact_ids: Iterable[int]) -> int:
    """Recompute the facts of these contacts; a contact left without orders loses its row."""
    ids = sorted(set(contact_ids))
    if not ids:
        return 0
    settings = LifecycleSettings.current()
    cuts = _cuts(settings)
    written = 0
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        orders: dict[int, list[tuple[dt.datetime, Decimal]]] = {}
        for contact_id, placed_at, total in (
            Order.objects.filter(contact_id__in=chunk)
            .order_by("contact_id", "placed_at", "pk")
            .values_list("contact_id", "placed_at", "total")
        ):
            orders.setdefault(contact_id, []).append((placed_at, total))
        ContactFacts.objects.filter(contact_id__in=chunk).delete()
        ContactFacts.objects.bulk_create(
            [compute_facts(cid, rows, settings, cuts) for cid, rows in orders.items()]
        )
        _mark_buyers(chunk, set(orders))
        written += len(orders)
    return written


def _mark_buyers(contact_ids: list[int], buyers: set[int]) -> None:
    """Keep ``Contact.has_ordered`` equal to "has a facts row", writing only what changed."""
    Contact.objects.filter(pk__in=buyers, has_ordered=False).update(has_ordered=True)
    Contact.objects.filter(pk__in=[cid for cid in contact_ids if cid not in buyers]).filter(
        has_ordered=True
    ).update(has_ordered=False)


def rebuild_all_facts(batch: int = 5000) -> int:
    """Recompute every buyer's facts (after a restore, or to check the incremental path)."""
    ContactFacts.objects.all().delete()
    Contact.objects.filter(has_ordered=True).exclude(
        Exists(Order.objects.filter(contact_id=OuterRef("pk")))
    ).update(has_ordered=False)
    done = 0
    last = 0
    while True:
        ids = list(
            Order.objects.filter(contact_id__gt=last)
            .order_by("contact_id")
            .values_list("contact_id", flat=True)
            .distinct()[:batch]
        )
        if not ids:
            return done
        done += refresh_facts(ids)
        last = ids[-1]


def _quintile_cuts(column: str, count: int) -> list[Any]:
    ordered = ContactFacts.objects.order_by(column).values_list(column, flat=True)
    return [ordered[min(count - 1, count * k // 5)] for k in range(1, 5)]


@transaction.atomic
def rescore(now: dt.datetime | None = None) -> dict[str, list[str]]:
    """New quintile cut points over all buyers, and every buyer's R, F and M scores."""
    settings = LifecycleSettings.current()
    count = ContactFacts.objects.count()
    if count == 0:
        settings.rfm_cuts = {}
        settings.rfm_scored_at = now or timezone.now()
        settings.save()
        return {}
    cuts = {key: _quintile_cuts(column, count) for key, column in METRICS.items()}
    updates = {}
    for key, column in METRICS.items():
        whens = [
            When(**{f"{column}__gt": cut}, then=Value(5 - i))
            for i, cut in enumerate(reversed(cuts[key]))
        ]
        updates[f"{key}_score"] = Case(*whens, default=Value(1), output_field=IntegerField())
    ContactFacts.objects.update(**updates, updated_at=now or timezone.now())
    stored = {
        key: [v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values]
        for key, values in cuts.items()
    }
    settings.rfm_cuts = stored
    settings.rfm_scored_at = now or timezone.now()
    settings.save()
    return stored
