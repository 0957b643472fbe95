"""Triggers: who enters each enabled journey at this instant.

Each trigger is a scan, set-based and idempotent: it finds candidates (contact, cause), and
``enter`` inserts one entry per (journey, contact, occurrence), where the occurrence follows
the journey's re-entry rule ("" once ever, the year, or the cause for every time). The unique
constraint on that triple makes a rerun, a second scheduler or a re-read window harmless, so
scans re-read a trailing window (``SLACK``) instead of trusting commit order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q
from django.utils.dateparse import parse_datetime

from rapport.automation.calendar import holiday_date
from rapport.automation.dates import alive_dates, local_date, month_day, month_days_celebrated
from rapport.automation.dates import parse_date as parse_stored_date
from rapport.automation.definition import Plan
from rapport.automation.models import START, AudienceSnapshot, EntryState, Journey, JourneyEntry
from rapport.crm.models import Contact, ContactStatus, Event, Order, OrderLine
from rapport.segments.models import ContactFacts, Segment
from rapport.segments.queries import segment_queryset
from rapport.segments.services import get_segment_for

SLACK = dt.timedelta(minutes=10)  # rows may commit this long after their timestamp
ID_SLACK = 5000  # event ids re-read each scan: ids commit out of order across processes
BATCH = 5000
RECENT_ORDER = dt.timedelta(days=7)  # older orders (an import of history) trigger nothing


@dataclass(frozen=True, slots=True)
class Candidate:
    contact_id: int
    cause: str
    year: int


@dataclass(slots=True)
class Firing:
    journey: Journey
    plan: Plan
    now: dt.datetime

    @property
    def params(self) -> dict[str, Any]:
        return self.plan.trigger.params

    def since(self) -> dt.datetime | None:
        """Where a time-based scan starts (with its slack), None on the very first one."""
        last = parse_datetime(str(self.journey.scan.get("since") or ""))
        if last is None:
            return self.journey.enabled_at
        floor = self.journey.enabled_at
        start = last - SLACK
        return max(start, floor) if floor is not None and floor <= last else start


def _batched(rows: Iterable[Candidate]) -> Iterator[list[Candidate]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _window(field: str, start: dt.datetime | None, end: dt.datetime) -> Q:
    q = Q(**{f"{field}__lte": end})
    return q & Q(**{f"{field}__gt": start}) if start is not None else q


def _contact_created(firing: Firing) -> Iterable[Candidate]:
    start = firing.since() or firing.now
    rows = Contact.objects.filter(_window("created_at", start, firing.now)).order_by("pk")
    for pk in rows.values_list("pk", flat=True).iterator(BATCH):
        yield Candidate(pk, "created", firing.now.year)


def _subscribed(firing: Firing) -> Iterable[Candidate]:
    start = firing.since() or firing.now
    rows = Contact.objects.filter(
        _window("consent_at", start, firing.now), status=ContactStatus.SUBSCRIBED
    )
    for pk, at in rows.order_by("pk").values_list("pk", "consent_at").iterator(BATCH):
        yield Candidate(pk, f"subscribed:{at:%Y%m%d%H%M%S}", firing.now.year)


def _orders(firing: Firing, extra: Q) -> Iterable[Candidate]:
    start = firing.since() or firing.now
    orders = Order.objects.filter(
        _window("created_at", start, firing.now), placed_at__gt=firing.now - RECENT_ORDER
    ).filter(extra)
    for pk, contact_id in orders.order_by("pk").values_list("pk", "contact_id").iterator(BATCH):
        yield Candidate(contact_id, f"order:{pk}", firing.now.year)


def _first_order(firing: Firing) -> Iterable[Candidate]:
    earlier = Order.objects.filter(
        contact_id=OuterRef("contact_id"), placed_at__lt=OuterRef("placed_at")
    )
    return _orders(firing, ~Q(Exists(earlier)))


def _order_of(firing: Firing) -> Iterable[Candidate]:
    products = list(firing.params.get("products") or [])
    categories = [c.lower() for c in firing.params.get("categories") or []]
    if not products and not categories:
        return _orders(firing, Q())
    lines = OrderLine.objects.filter(order_id=OuterRef("pk")).filter(
        Q(sku__in=products) | Q(product__category__in=categories)
    )
    return _orders(firing, Q(Exists(lines)))


def _event(firing: Firing) -> Iterable[Candidate]:
    scan = firing.journey.scan
    floor = int(scan.get("floor_id") or 0)
    high = int(scan.get("high_id") or floor)
    events = Event.objects.filter(
        pk__gt=max(high - ID_SLACK, floor),
        type=firing.params.get("event_type", "custom"),
        name=firing.params["name"],
        occurred_at__lte=firing.now,
    )
    newest = Event.objects.aggregate(newest=Max("pk"))["newest"] or high
    for pk, contact_id in events.order_by("pk").values_list("pk", "contact_id").iterator(BATCH):
        yield Candidate(contact_id, f"event:{pk}", firing.now.year)
    scan["high_id"] = max(high, newest)


def _segment(firing: Firing, *, entering: bool) -> Iterable[Candidate]:
    """The difference between the segment now and the snapshot of the last look."""
    journey = firing.journey
    segment = get_segment_for(None, firing.params["segment"])
    members = segment_queryset(segment, now=firing.now).values("pk")
    snapshot = AudienceSnapshot.objects.filter(journey=journey)
    first_look = not journey.scan.get("baseline")
    joined = list(
        Contact.objects.filter(pk__in=members)
        .exclude(pk__in=snapshot.values("contact_id"))
        .values_list("pk", flat=True)
    )
    left = list(snapshot.exclude(contact_id__in=members).values_list("contact_id", flat=True))
    AudienceSnapshot.objects.bulk_create(
        [AudienceSnapshot(journey=journey, contact_id=pk) for pk in joined],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    snapshot.filter(contact_id__in=left).delete()
    journey.scan["baseline"] = True
    if first_look:  # who is in it when the journey is switched on has not "entered" now
        return
    cause = f"segment:{firing.now:%Y%m%d%H%M}"
    for pk in joined if entering else left:
        yield Candidate(pk, cause, firing.now.year)


def _date(firing: Firing) -> Iterable[Candidate]:
    """Anniversaries of a date field (birthday) today in each contact's own timezone."""
    field = str(firing.params.get("field") or "birthday")
    offset = dt.timedelta(days=int(firing.params.get("offset_days") or 0))
    leap_day = str(firing.params.get("leap_day") or "feb28")
    wanted: set[int] = set()
    for alive in alive_dates(firing.now):
        wanted |= month_days_celebrated(alive - offset, leap_day)
    if field == "birthday":
        rows = Contact.objects.filter(birth_month_day__in=sorted(wanted)).values_list(
            "pk", "timezone", "birthday"
        )
    else:
        key = field.removeprefix("custom.")
        matches = Q()
        for md in wanted:
            matches |= Q(**{f"custom__{key}__endswith": f"-{md // 100:02d}-{md % 100:02d}"})
        rows = Contact.objects.filter(matches).values_list("pk", "timezone", f"custom__{key}")
    for pk, zone_name, value in rows.iterator(BATCH):
        day = parse_stored_date(value)
        if day is None:
            continue
        occasion = local_date(firing.now, zone_name) - offset
        if month_day(day) in month_days_celebrated(occasion, leap_day):
            yield Candidate(pk, f"{field}:{occasion.year}", occasion.year)


def _holiday(firing: Firing) -> Iterable[Candidate]:
    """Everyone (in the trigger's segment) when the holiday, less ``days_before``, has come in
    their timezone; each timezone is done once per holiday and year."""
    country = str(firing.params.get("country") or "CN")
    key = str(firing.params["holiday"])
    before = dt.timedelta(days=int(firing.params.get("days_before") or 0))
    due: list[tuple[dt.date, int]] = []
    for alive in alive_dates(firing.now):
        for year in (alive.year, alive.year + 1):
            day = holiday_date(country, key, year)
            if day is not None and day - before == alive:
                due.append((alive, year))
    if not due:
        return
    done: dict[str, list[str]] = firing.journey.scan.setdefault("zones", {})
    zones = list(Contact.objects.order_by().values_list("timezone", flat=True).distinct())
    for alive, year in due:
        finished = done.setdefault(str(year), [])
        ready = [z for z in zones if z not in finished and local_date(firing.now, z) == alive]
        if not ready:
            continue
        rows = Contact.objects.filter(timezone__in=ready).order_by("pk")
        for pk in rows.values_list("pk", flat=True).iterator(BATCH):
            yield Candidate(pk, f"holiday:{key}:{year}", year)
        finished.extend(ready)
    for past in [y for y in done if int(y) < firing.now.year - 1]:
        del done[past]


def _inactivity(firing: Firing) -> Iterable[Candidate]:
    """Buyers whose last order is N days old (or who reached the lapsed stage) since the last
    scan; the first scan after switching on takes everyone inactive already."""
    lapsed = firing.params.get("stage") == "lapsed"
    column = "lapses_at" if lapsed else "last_order_at"
    quiet_for = dt.timedelta(days=0 if lapsed else int(firing.params["days"]))
    last = parse_datetime(str(firing.journey.scan.get("since") or ""))
    start = (last - SLACK - quiet_for) if last is not None else None
    facts = ContactFacts.objects.filter(_window(column, start, firing.now - quiet_for))
    label = "lapsed" if lapsed else "inactive"
    for contact_id, at in facts.order_by("pk").values_list("contact_id", column).iterator(BATCH):
        yield Candidate(contact_id, f"{label}:{at:%Y%m%d}", firing.now.year)


SCANNERS: dict[str, Callable[[Firing], Iterable[Candidate]]] = {
    "contact_created": _contact_created,
    "subscribed": _subscribed,
    "first_order": _first_order,
    "order": _order_of,
    "event": _event,
    "segment_entered": lambda firing: _segment(firing, entering=True),
    "segment_left": lambda firing: _segment(firing, entering=False),
    "date": _date,
    "holiday": _holiday,
    "inactivity": _inactivity,
}


def fire(journey: Journey, plan: Plan, now: dt.datetime) -> int:
    """Run the journey's trigger at ``now``; returns how many entries were made. The caller
    holds the transaction (entries and the scan position commit together)."""
    firing = Firing(journey, plan, now)
    audience = plan.trigger.audience
    segment = get_segment_for(None, audience) if audience is not None else None
    entered = 0
    for batch in _batched(SCANNERS[plan.trigger.type](firing)):
        entered += enter(journey, plan, batch, now, segment=segment)
    journey.scan["since"] = now.isoformat()
    Journey.objects.filter(pk=journey.pk).update(scan=journey.scan)
    return entered


def occurrence_of(reentry: str, candidate: Candidate) -> str:
    if reentry == "once":
        return ""
    if reentry == "yearly":
        return str(candidate.year)
    return candidate.cause


def enter(
    journey: Journey,
    plan: Plan,
    candidates: list[Candidate],
    now: dt.datetime,
    *,
    segment: Segment | None = None,
) -> int:
    """Insert the entries these candidates make, minus those the re-entry rule refuses."""
    ids = list({c.contact_id for c in candidates})
    if segment is not None:
        ids = list(
            segment_queryset(segment, now=now).filter(pk__in=ids).values_list("pk", flat=True)
        )
    allowed = set(ids)
    wanted = {
        (c.contact_id, occurrence_of(plan.reentry, c)): c.cause
        for c in candidates
        if c.contact_id in allowed
    }
    if not wanted:
        return 0
    entries = JourneyEntry.objects.filter(journey=journey, contact_id__in=list(allowed))
    taken = set(
        entries.filter(occurrence__in={occ for _, occ in wanted}).values_list(
            "contact_id", "occurrence"
        )
    )
    wanted = {key: cause for key, cause in wanted.items() if key not in taken}
    busy: set[int] = set()
    if plan.reentry == "always":  # never twice at once in the same journey
        busy = set(entries.filter(state=EntryState.ACTIVE).values_list("contact_id", flat=True))
        first: dict[int, tuple[int, str]] = {}
        for key in wanted:
            first.setdefault(key[0], key)
        wanted = {key: wanted[key] for key in first.values()}
    rows = [
        JourneyEntry(
            journey=journey,
            contact_id=contact_id,
            occurrence=occurrence,
            cause=cause,
            step=START,
            due_at=now,
            entered_at=now,
        )
        for (contact_id, occurrence), cause in wanted.items()
        if contact_id not in busy
    ]
    JourneyEntry.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return len(rows)
