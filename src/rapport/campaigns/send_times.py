"""Send-time optimisation: each contact's best local hour, learned from their own opens and
clicks, and the fallbacks a campaign uses for people without enough of them.

**Learning** (``learn``, a daily scheduler job): the human opens and clicks of the last
``HISTORY_DAYS`` are counted per contact, UTC hour and age band in one grouped query per block of
contacts; each band is weighted by recency (``HALF_LIFE_DAYS``: what someone did last month says
more about their routine than what they did last spring). The counts move to the contact's
local hour (by their timezone's offset now: an event from the other side of a daylight-saving
change lands an hour off, which the smoothing below absorbs), each hour is smoothed with half of
its neighbours (people who open at 8 and at 9 are morning readers, not two people), and the
best hour is stored when the weight behind the contact is at least ``MIN_WEIGHT``; otherwise
any earlier row is removed, so stale guesses age out. The whole history is re-read each run,
which also makes events committed late (the tracking endpoints write in batches) count.

**Using** (``BestHours``): a contact's own hour; else the best hour of the campaign's first
segment they belong to (the hour most of its learned members read at, with at least
``MIN_SEGMENT_PROFILES`` of them); else the workspace's; else 10:00, when the default sending
window opens.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.db.models.functions import ExtractHour

from rapport.campaigns.models import Campaign, SendHour
from rapport.campaigns.timing import zone
from rapport.crm.engagement import human_engagement
from rapport.crm.models import Contact, Event
from rapport.segments.queries import segment_queryset

HISTORY_DAYS = 180
BAND_DAYS = 15
HALF_LIFE_DAYS = 45.0
MIN_WEIGHT = 3.0  # about three recent opens or clicks
MIN_SEGMENT_PROFILES = 5
DEFAULT_HOUR = 10
BLOCK = 20_000  # contacts per grouped query


@dataclass(frozen=True, slots=True)
class LearnReport:
    contacts: int  # with a best hour now
    removed: int  # whose earlier hour no longer has enough behind it
    ms: int


def best_local_hour(weights_by_utc_hour: dict[int, float], offset_hours: float) -> int:
    """The local hour with the most smoothed weight (ties: the earlier hour)."""
    local = [0.0] * 24
    for hour, weight in weights_by_utc_hour.items():
        local[math.floor(hour + offset_hours) % 24] += weight
    smoothed = [local[h] + 0.5 * (local[(h - 1) % 24] + local[(h + 1) % 24]) for h in range(24)]
    return max(range(24), key=lambda h: (smoothed[h], -h))


def band_weight(band: int) -> float:
    """The weight of one event of age band ``band`` (0: the most recent ``BAND_DAYS``)."""
    middle_age = (band + 0.5) * BAND_DAYS
    return float(0.5 ** (middle_age / HALF_LIFE_DAYS))


def learn(now: dt.datetime) -> LearnReport:
    """Recompute every contact's best hour from their recent human opens and clicks."""
    started = dt.datetime.now(dt.UTC)
    bands = HISTORY_DAYS // BAND_DAYS
    band = Case(
        *[When(occurred_at__gte=now - dt.timedelta(days=BAND_DAYS * (n + 1)), then=Value(n))
          for n in range(bands)],
        output_field=IntegerField(),
    )  # fmt: skip
    kept = removed = 0
    last_id = 0
    contacts = Contact.objects.order_by("pk").values_list("pk", flat=True)
    while True:
        ids = list(contacts.filter(pk__gt=last_id)[:BLOCK])
        if not ids:
            break
        first, last_id = ids[0], ids[-1]
        weights: dict[int, dict[int, float]] = {}
        for contact_id, hour, age_band, count in (
            Event.objects.filter(
                human_engagement(),
                contact_id__gte=first,
                contact_id__lte=last_id,
                occurred_at__gte=now - dt.timedelta(days=HISTORY_DAYS),
                occurred_at__lte=now,
            )
            .annotate(hour=ExtractHour("occurred_at", tzinfo=dt.UTC), band=band)
            .values_list("contact_id", "hour", "band")
            .annotate(n=Count("pk"))
            .values_list("contact_id", "hour", "band", "n")
        ):
            by_hour = weights.setdefault(contact_id, {})
            by_hour[hour] = by_hour.get(hour, 0.0) + count * band_weight(age_band)
        zones = dict(Contact.objects.filter(pk__in=list(weights)).values_list("pk", "timezone"))
        rows = [
            SendHour(
                contact_id=contact_id,
                hour=best_local_hour(by_hour, _offset_hours(zones.get(contact_id, ""), now)),
                weight=round(total, 3),
                learned_at=now,
            )
            for contact_id, by_hour in weights.items()
            if (total := sum(by_hour.values())) >= MIN_WEIGHT
        ]
        with transaction.atomic():
            SendHour.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["contact"],
                update_fields=["hour", "weight", "learned_at"],
            )
            removed += (
                SendHour.objects.filter(contact_id__gte=first, contact_id__lte=last_id)
                .exclude(contact_id__in=[row.contact_id for row in rows])
                .delete()[0]
            )
        kept += len(rows)
    elapsed = dt.datetime.now(dt.UTC) - started
    return LearnReport(kept, removed, int(elapsed.total_seconds() * 1000))


def _offset_hours(timezone_name: str, now: dt.datetime) -> float:
    from django.conf import settings  # noqa: PLC0415 - read at call time (tests change it)

    offset = now.astimezone(zone(timezone_name or settings.TIME_ZONE)).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


def _most_common_hour(hours: Iterable[tuple[int, int]]) -> int | None:
    """``(hour, contacts)`` rows -> the hour with most contacts, when enough are learned."""
    counts = Counter(dict(hours))
    if sum(counts.values()) < MIN_SEGMENT_PROFILES:
        return None
    return max(sorted(counts), key=lambda hour: counts[hour])


def workspace_hour() -> int:
    rows = SendHour.objects.values_list("hour").annotate(n=Count("pk")).values_list("hour", "n")
    found = _most_common_hour(rows)
    return DEFAULT_HOUR if found is None else found


class BestHours:
    """The hour each recipient of one campaign gets in the best-hour mode."""

    def __init__(self, campaign: Campaign, *, now: dt.datetime) -> None:
        self.now = now
        self.workspace = workspace_hour()
        self.segments: list[tuple[QuerySet[Contact], int]] = []  # (members, their best hour)
        included = [m for m in campaign.audience.select_related("segment").order_by("pk")
                    if not m.exclude]  # fmt: skip
        self.included = len(included)
        for member in included:
            members = segment_queryset(member.segment, now=now)
            rows = (
                SendHour.objects.filter(contact_id__in=members.values("pk"))
                .values_list("hour")
                .annotate(n=Count("pk"))
                .values_list("hour", "n")
            )
            hour = _most_common_hour(rows)
            if hour is not None:
                self.segments.append((members, hour))

    def for_contacts(self, contact_ids: Sequence[int]) -> dict[int, int]:
        hours = dict(
            SendHour.objects.filter(contact_id__in=contact_ids).values_list("contact_id", "hour")
        )
        missing = [cid for cid in contact_ids if cid not in hours]
        if missing and self.included == 1 and self.segments:
            # Everyone is in the campaign's one segment: no membership to look up.
            hours.update(dict.fromkeys(missing, self.segments[0][1]))
            return hours
        for members, hour in self.segments:
            if not missing:
                break
            found = set(members.filter(pk__in=missing).values_list("pk", flat=True))
            hours.update(dict.fromkeys(found, hour))
            missing = [cid for cid in missing if cid not in found]
        hours.update(dict.fromkeys(missing, self.workspace))
        return hours
