"""Absorbing opens and clicks from the append-only Event table into the rollups.

Events are read by id: everything above the watermark, in ranges of ``CHUNK_IDS`` ids, each
range absorbed and the watermark moved in one transaction (so a crash repeats a range whole
or not at all). Ids are not committed in order (tracking writes batches from several
processes), so the ids missing from a range when it is read are kept as ``PendingGap`` rows
and looked at again on every run for ``GAP_PATIENCE``; an event that commits late is then
absorbed once, like the others. A range is read under a lock on the one ``AbsorbState`` row,
so two runs (the scheduler and a report read) never absorb the same events twice.

The contract's rules: machine opens (privacy proxies, prefetch) and scanner clicks are kept
apart and never count as engagement. A human click without a recorded human open counts as
an open too (the reader saw the email with images blocked); ``openers_by_click`` says how
many. Unique openers and clickers count in the hour (and on the device, client and local
weekday-hour) of the contact's *first* human open or click; when a late event turns out to
be earlier than the first one seen, the counts move to where it happened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from rapport.analytics.models import (
    AbsorbState,
    BreakdownRollup,
    CampaignRollup,
    Dimension,
    EngagementFact,
    HourlyRollup,
    LinkRollup,
    LocalOpenHour,
    PendingGap,
)
from rapport.crm.models import Contact, Event, EventType

CHUNK_IDS = 100_000
MAX_GAPS_PER_RUN = 500
GAP_PATIENCE = dt.timedelta(minutes=10)
DEVICES = frozenset({"desktop", "mobile", "tablet"})
UNKNOWN = "unknown"
_WRITE_BATCH = 2000


@dataclass(frozen=True)
class AbsorbResult:
    events: int  # opens and clicks absorbed
    through: int  # the watermark after the run
    pending_gaps: int


@dataclass
class _Fact:
    campaign_id: int
    contact_id: int
    domain: str
    timezone: str
    first_open_at: dt.datetime | None = None
    first_click_at: dt.datetime | None = None
    opens: int = 0
    clicks: int = 0
    machine_opens: int = 0
    scanner_clicks: int = 0
    device: str = ""
    client: str = ""
    changed: bool = False

    @property
    def first_engaged_at(self) -> dt.datetime | None:
        times = [t for t in (self.first_open_at, self.first_click_at) if t is not None]
        return min(times) if times else None

    @property
    def by_click_only(self) -> bool:
        return self.first_open_at is None and self.first_click_at is not None


Counts = dict[str, int]


@dataclass
class _Deltas:
    """What one range adds to each rollup, keyed as its unique constraint."""

    campaign: defaultdict[int, Counts] = field(default_factory=lambda: defaultdict(dict))
    hourly: defaultdict[tuple[int, dt.datetime], Counts] = field(
        default_factory=lambda: defaultdict(dict)
    )
    links: defaultdict[tuple[int, str], Counts] = field(default_factory=lambda: defaultdict(dict))
    link_urls: dict[tuple[int, str], str] = field(default_factory=dict)
    breakdown: defaultdict[tuple[int, str, str], Counts] = field(
        default_factory=lambda: defaultdict(dict)
    )
    local: defaultdict[tuple[dt.date, int, int], Counts] = field(
        default_factory=lambda: defaultdict(dict)
    )


def _bump(counts: Counts, name: str, by: int = 1) -> None:
    counts[name] = counts.get(name, 0) + by


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def local_slot(moment: dt.datetime, zone_name: str) -> tuple[dt.date, int, int]:
    """(UTC day, local weekday, local hour) of a moment for a contact in that timezone."""
    local = moment.astimezone(_zone(zone_name))
    return moment.astimezone(dt.UTC).date(), local.weekday(), local.hour


def link_key(data: dict[str, Any]) -> str:
    link = data.get("link")
    if isinstance(link, int) or (isinstance(link, str) and link.isdigit()):
        return str(link)
    return (
        "u:"
        + hashlib.sha1(str(data.get("url", "")).encode(), usedforsecurity=False).hexdigest()[:38]
    )


def _device(data: dict[str, Any]) -> str:
    device = str(data.get("device") or "").lower()
    return device if device in DEVICES else UNKNOWN


def _client(data: dict[str, Any]) -> str:
    return str(data.get("client") or "").strip()[:60] or UNKNOWN


class _Merger:
    """Applies events to facts and collects the rollups' deltas."""

    def __init__(self, facts: dict[tuple[int, int], _Fact]) -> None:
        self.facts = facts
        self.deltas = _Deltas()

    def _engage(self, fact: _Fact, at: dt.datetime, device: str, client: str) -> None:
        """A human open or click at ``at``: the contact's first engagement moves here when
        it is earlier than the one known (or there was none)."""
        before = fact.first_engaged_at
        if before is not None and at >= before:
            return
        c, d = fact.campaign_id, self.deltas
        clicked = fact.first_click_at is not None
        if before is None:
            _bump(d.campaign[c], "openers")
            _bump(d.breakdown[(c, Dimension.DOMAIN, fact.domain)], "openers")
        else:
            _bump(d.hourly[(c, _hour(before))], "openers", -1)
            _bump(d.local[local_slot(before, fact.timezone)], "openers", -1)
            for dim, value in ((Dimension.DEVICE, fact.device), (Dimension.CLIENT, fact.client)):
                _bump(d.breakdown[(c, dim, value)], "openers", -1)
                if clicked:
                    _bump(d.breakdown[(c, dim, value)], "clickers", -1)
        fact.device, fact.client = device, client
        _bump(d.hourly[(c, _hour(at))], "openers")
        _bump(d.local[local_slot(at, fact.timezone)], "openers")
        for dim, value in ((Dimension.DEVICE, device), (Dimension.CLIENT, client)):
            _bump(d.breakdown[(c, dim, value)], "openers")
            if clicked:
                _bump(d.breakdown[(c, dim, value)], "clickers")

    def add(self, kind: str, fact: _Fact, at: dt.datetime, data: dict[str, Any]) -> None:
        c, d = fact.campaign_id, self.deltas
        fact.changed = True
        hour = d.hourly[(c, _hour(at))]
        by_click_before = fact.by_click_only
        if kind == EventType.OPENED:
            if data.get("machine"):
                fact.machine_opens += 1
                _bump(d.campaign[c], "machine_opens")
                _bump(hour, "machine_opens")
                return
            device, client = _device(data), _client(data)
            fact.opens += 1
            _bump(d.campaign[c], "opens")
            _bump(hour, "opens")
            for dim, value in (
                (Dimension.DEVICE, device),
                (Dimension.CLIENT, client),
                (Dimension.DOMAIN, fact.domain),
            ):
                _bump(d.breakdown[(c, dim, value)], "opens")
            self._engage(fact, at, device, client)
            if fact.first_open_at is None or at < fact.first_open_at:
                fact.first_open_at = at
        else:
            key = link_key(data)
            d.link_urls.setdefault((c, key), str(data.get("url", "")))
            if data.get("scanner"):
                fact.scanner_clicks += 1
                _bump(d.campaign[c], "scanner_clicks")
                _bump(hour, "scanner_clicks")
                _bump(d.links[(c, key)], "scanner_clicks")
                return
            device, client = _device(data), _client(data)
            fact.clicks += 1
            _bump(d.campaign[c], "clicks")
            _bump(hour, "clicks")
            _bump(d.links[(c, key)], "clicks")
            for dim, value in (
                (Dimension.DEVICE, device),
                (Dimension.CLIENT, client),
                (Dimension.DOMAIN, fact.domain),
            ):
                _bump(d.breakdown[(c, dim, value)], "clicks")
            self._engage(fact, at, device, client)
            first = fact.first_click_at
            if first is None:
                _bump(d.campaign[c], "clickers")
                _bump(hour, "clickers")
                for dim, value in (
                    (Dimension.DEVICE, fact.device),
                    (Dimension.CLIENT, fact.client),
                    (Dimension.DOMAIN, fact.domain),
                ):
                    _bump(d.breakdown[(c, dim, value)], "clickers")
                fact.first_click_at = at
            elif at < first:
                _bump(d.hourly[(c, _hour(first))], "clickers", -1)
                _bump(hour, "clickers")
                fact.first_click_at = at
        change = int(fact.by_click_only) - int(by_click_before)
        if change:
            _bump(d.campaign[c], "openers_by_click", change)


def _batches[T](items: list[T], size: int = 5000) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load_facts(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], _Fact]:
    """The facts of these (campaign, contact) pairs that exist, by the unique index."""
    contacts_of: defaultdict[int, list[int]] = defaultdict(list)
    for campaign_id, contact_id in pairs:
        contacts_of[campaign_id].append(contact_id)
    facts: dict[tuple[int, int], _Fact] = {}
    for campaign_id, contact_ids in contacts_of.items():
        for batch in _batches(sorted(contact_ids)):
            for row in EngagementFact.objects.filter(campaign_id=campaign_id, contact_id__in=batch):
                facts[(row.campaign_id, row.contact_id)] = _Fact(
                    campaign_id=row.campaign_id,
                    contact_id=row.contact_id,
                    domain=row.domain,
                    timezone=row.timezone,
                    first_open_at=row.first_open_at,
                    first_click_at=row.first_click_at,
                    opens=row.opens,
                    clicks=row.clicks,
                    machine_opens=row.machine_opens,
                    scanner_clicks=row.scanner_clicks,
                    device=row.device,
                    client=row.client,
                )
    return facts


def _contacts(contact_ids: set[int]) -> dict[int, tuple[str, str]]:
    """contact id -> (email domain, timezone)."""
    found = {}
    for batch in _batches(sorted(contact_ids)):
        rows = Contact.objects.filter(pk__in=batch).values_list("pk", "email", "timezone")
        for pk, email, zone in rows:
            found[pk] = (email.rpartition("@")[2][:253] or UNKNOWN, zone or "")
    return found


RELEVANT = frozenset({EventType.OPENED, EventType.CLICKED})


def _absorb(events: QuerySet[Event]) -> tuple[list[int], int]:
    """Absorb the opens and clicks among ``events``; returns the ids of *every* event read,
    and how many opens and clicks there were.
    The ids and the rows come from one query (one snapshot): an event that commits while a
    range is read is either absorbed now or left in a gap, never both."""
    seen: list[int] = []
    rows = []
    for pk, kind, campaign_id, contact_id, at, data in events.order_by("pk").values_list(
        "pk", "type", "campaign_id", "contact_id", "occurred_at", "data"
    ):
        seen.append(pk)
        if kind in RELEVANT and campaign_id is not None and not _implied(data):
            rows.append((kind, campaign_id, contact_id, at, data))
    pairs = {(campaign_id, contact_id) for _, campaign_id, contact_id, _, _ in rows}
    facts = _load_facts(pairs)
    contacts = _contacts({contact for _campaign, contact in pairs - facts.keys()})
    merger = _Merger(facts)
    for kind, campaign_id, contact_id, at, data in rows:
        key = (campaign_id, contact_id)
        fact = facts.get(key)
        if fact is None:
            domain, zone = contacts.get(contact_id, (UNKNOWN, ""))
            fact = facts[key] = _Fact(campaign_id, contact_id, domain, zone)
        merger.add(kind, fact, at, data if isinstance(data, dict) else {})
    _write_facts(f for f in facts.values() if f.changed)
    _write_deltas(merger.deltas)
    return seen, len(rows)


_FACT_FIELDS = [
    "first_open_at",
    "first_click_at",
    "opens",
    "clicks",
    "machine_opens",
    "scanner_clicks",
    "device",
    "client",
]


_FACT_COLUMNS = ["campaign_id", "contact_id", "domain", "timezone", *_FACT_FIELDS]


def _write_facts(facts: Iterable[_Fact]) -> None:
    """One ``INSERT … ON CONFLICT DO UPDATE`` per batch, new and known facts alike: model
    instances through ``bulk_create`` cost more than the database's own work here."""
    table = connection.ops.quote_name(EngagementFact._meta.db_table)
    columns = ", ".join(_FACT_COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _FACT_FIELDS)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_FACT_COLUMNS))}) "  # noqa: S608 - our own names
        f"ON CONFLICT (campaign_id, contact_id) DO UPDATE SET {updates}"
    )
    moment = connection.ops.adapt_datetimefield_value
    rows = [
        (
            f.campaign_id,
            f.contact_id,
            f.domain,
            f.timezone,
            moment(f.first_open_at),
            moment(f.first_click_at),
            f.opens,
            f.clicks,
            f.machine_opens,
            f.scanner_clicks,
            f.device,
            f.client,
        )
        for f in facts
    ]
    with connection.cursor() as cursor:
        for batch in _batches(rows, _WRITE_BATCH):
            cursor.executemany(sql, batch)


def _add_counts[M: models.Model](
    model: type[M],
    key_fields: tuple[str, ...],
    deltas: dict[Any, Counts],
    attrs: dict[Any, dict[str, Any]] | None = None,
) -> None:
    """Add ``deltas`` to the rows with these keys, creating the missing ones. Safe without
    conflicts because the caller holds the absorb lock."""
    deltas = {key: counts for key, counts in deltas.items() if any(counts.values())}
    if not deltas:
        return
    keys = list(deltas)
    wanted = Q()
    for position, name in enumerate(key_fields):
        wanted &= Q(**{f"{name}__in": {key[position] for key in keys}})
    existing = {
        tuple(getattr(row, name) for name in key_fields): row
        for row in model._default_manager.filter(wanted)
    }
    fields = sorted({name for counts in deltas.values() for name in counts})
    rows: list[M] = []
    for key, counts in deltas.items():
        row = existing.get(key)
        if row is None:
            row = model(**dict(zip(key_fields, key, strict=True)), **(attrs or {}).get(key, {}))
        for name, by in counts.items():
            setattr(row, name, getattr(row, name) + by)
        rows.append(row)
    created = [row for row in rows if row.pk is None]
    updated = [row for row in rows if row.pk is not None]
    model._default_manager.bulk_create(created, batch_size=_WRITE_BATCH)
    model._default_manager.bulk_update(updated, fields, batch_size=500)


def _write_deltas(d: _Deltas) -> None:
    _add_counts(CampaignRollup, ("campaign_id",), {(c,): n for c, n in d.campaign.items()})
    _add_counts(HourlyRollup, ("campaign_id", "hour"), d.hourly)
    _add_counts(
        LinkRollup,
        ("campaign_id", "key"),
        d.links,
        attrs={key: {"url": url} for key, url in d.link_urls.items()},
    )
    _add_counts(BreakdownRollup, ("campaign_id", "dimension", "value"), d.breakdown)
    _add_counts(LocalOpenHour, ("day", "weekday", "hour"), d.local)


def _missing(seen: list[int], first: int, last: int) -> list[tuple[int, int]]:
    """Id ranges within ``first..last`` that are not among ``seen`` (sorted)."""
    gaps = []
    start = first
    for pk in seen:
        if pk < first or pk > last:
            continue
        if pk > start:
            gaps.append((start, pk - 1))
        start = pk + 1
    if start <= last:
        gaps.append((start, last))
    return gaps


def _recheck_gaps(now: dt.datetime) -> int:
    """Absorb the events that committed into pending gaps since; keep what is still missing.
    At most ``MAX_GAPS_PER_RUN`` (the oldest first), so that one query stays small."""
    PendingGap.objects.filter(seen_at__lt=now - GAP_PATIENCE).delete()
    gaps = list(PendingGap.objects.order_by("first_id")[:MAX_GAPS_PER_RUN])
    if not gaps:
        return 0
    inside = Q()
    for gap in gaps:
        inside |= Q(pk__gte=gap.first_id, pk__lte=gap.last_id)
    seen, absorbed = _absorb(Event.objects.filter(inside))
    if not seen:
        return 0
    remaining = [
        PendingGap(first_id=first, last_id=last, seen_at=gap.seen_at)
        for gap in gaps
        for first, last in _missing(seen, gap.first_id, gap.last_id)
    ]
    PendingGap.objects.filter(pk__in=[gap.pk for gap in gaps]).delete()
    PendingGap.objects.bulk_create(remaining)
    return absorbed


def _locked_state() -> AbsorbState:
    AbsorbState.objects.get_or_create(pk=1)
    return AbsorbState.objects.select_for_update().get(pk=1)


def absorb_events(*, now: dt.datetime | None = None, chunk_ids: int = CHUNK_IDS) -> AbsorbResult:
    """Bring the rollups up to date with every event committed so far. Idempotent; cheap
    when nothing is new (three small queries), so reports call it before they read."""
    now = now or timezone.now()
    top = Event.objects.aggregate(top=Max("pk"))["top"] or 0
    watermark = AbsorbState.objects.filter(pk=1).values_list("absorbed_through", flat=True).first()
    if watermark is not None and watermark >= top and not PendingGap.objects.exists():
        # Nothing new: no lock taken (on SQLite a write transaction would queue behind the
        # writers), so a report read costs three small queries.
        return AbsorbResult(events=0, through=watermark, pending_gaps=0)
    with transaction.atomic():
        state = _locked_state()
        absorbed = _recheck_gaps(now)
        low = state.absorbed_through
    while low < top:
        high = min(low + chunk_ids, top)
        with transaction.atomic():
            state = _locked_state()
            if state.absorbed_through != low:  # another run got here first
                low = state.absorbed_through
                continue
            seen, count = _absorb(Event.objects.filter(pk__gt=low, pk__lte=high))
            absorbed += count
            PendingGap.objects.bulk_create(
                PendingGap(first_id=first, last_id=last, seen_at=now)
                for first, last in _missing(seen, low + 1, high)
            )
            state.absorbed_through = high
            state.save(update_fields=["absorbed_through", "updated_at"])
        low = high
    return AbsorbResult(
        events=absorbed, through=max(low, top), pending_gaps=PendingGap.objects.count()
    )


def _implied(data: Any) -> bool:
    """An open that tracking added for a click with no open on record (``data.implied``,
    kept so that the contact's last open moves): the click counts it here already, as an
    opener by click, so it is not counted a second time as an open."""
    return isinstance(data, dict) and data.get("implied") is True
