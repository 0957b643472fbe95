"""Frequency caps: how many marketing emails a contact may get in a period.

Which cap applies, strongest first: the contact's own choice (preference centre), then the cap
of their group in a running frequency test (``frequency``), then a cap set on one of the
campaign's segments (the strictest, when several have one), then the
workspace's default for the contact's audience (B2B 1 a week, B2C 2 a week, non-profit 2 a
month). Only ``sent`` deliveries of non-transactional campaigns count, and transactional
campaigns are never capped. The counts are one grouped query per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from rapport.campaigns.models import (
    Campaign,
    FrequencyCap,
    FrequencyGroup,
    FrequencyMember,
    FrequencyTestState,
)
from rapport.crm.models import Audience, Contact
from rapport.delivery.models import Delivery, DeliveryState


@dataclass(frozen=True, slots=True)
class Cap:
    messages: int
    days: int


# What applies where the workspace has not set its own (FrequencyCap rows take over).
DEFAULT_CAPS: dict[str, Cap] = {
    Audience.B2B: Cap(1, 7),
    Audience.B2C: Cap(2, 7),
    Audience.NONPROFIT: Cap(2, 30),
}
FALLBACK = DEFAULT_CAPS[Audience.B2C]


@dataclass(frozen=True, slots=True)
class CapDecision:
    allowed: list[int]  # delivery ids that may go now
    held: dict[int, dt.datetime]  # delivery id -> when the contact is under the cap again


def _segment_cap(campaign: Campaign) -> Cap | None:
    caps = [
        Cap(member.segment.cap_messages, member.segment.cap_days)
        for member in campaign.audience.select_related("segment")
        if not member.exclude and member.segment.cap_messages and member.segment.cap_days
    ]
    return min(caps, key=lambda cap: cap.messages / cap.days) if caps else None


def _test_caps(contact_ids: Sequence[int], now: dt.datetime) -> dict[int, Cap]:
    """The caps of running frequency tests' groups, for those of these contacts in one."""
    groups = {
        (test_id, label): Cap(messages, days)
        for test_id, label, messages, days in FrequencyGroup.objects.filter(
            test__state=FrequencyTestState.RUNNING, test__ends_at__gt=now
        ).values_list("test_id", "label", "cap_messages", "cap_days")
    }
    if not groups:
        return {}
    return {
        contact_id: groups[(test_id, label)]
        for contact_id, test_id, label in FrequencyMember.objects.filter(
            contact_id__in=contact_ids, test_id__in={test for test, _ in groups}
        ).values_list("contact_id", "test_id", "group")
        if (test_id, label) in groups
    }


def caps_for(
    campaign: Campaign, contact_ids: Sequence[int], *, now: dt.datetime | None = None
) -> dict[int, Cap]:
    defaults: dict[str, Cap] = dict(DEFAULT_CAPS)
    defaults.update(
        {row.audience: Cap(row.messages, row.days) for row in FrequencyCap.objects.all()}
    )
    segment = _segment_cap(campaign)
    tested = _test_caps(contact_ids, now or timezone.now())
    caps: dict[int, Cap] = {}
    for contact_id, audience, messages, days in Contact.objects.filter(
        pk__in=contact_ids
    ).values_list("pk", "audience", "cap_messages", "cap_days"):
        if messages and days:
            caps[contact_id] = Cap(messages, days)
        elif contact_id in tested:
            caps[contact_id] = tested[contact_id]
        elif segment is not None:
            caps[contact_id] = segment
        else:
            caps[contact_id] = defaults.get(audience or Audience.B2C, FALLBACK)
    return caps


def apply_caps(
    campaign: Campaign, rows: Sequence[tuple[int, int]], *, now: dt.datetime
) -> CapDecision:
    """Split claimed ``(delivery id, contact id)`` rows into those under their cap and those
    over it, with the moment each held one may go (when its oldest counted send ages out)."""
    if campaign.transactional or not rows:
        return CapDecision([pk for pk, _ in rows], {})
    caps = caps_for(campaign, [contact for _, contact in rows], now=now)
    periods = sorted({cap.days for cap in caps.values()})
    aggregates: dict[str, Count | Min] = {}
    for days in periods:
        window = Q(sent_at__gt=now - dt.timedelta(days=days))  # a send ages out at the instant
        aggregates[f"n{days}"] = Count("pk", filter=window)
        aggregates[f"first{days}"] = Min("sent_at", filter=window)
    history: dict[int, dict[str, Any]] = {
        row["contact_id"]: dict(row)
        for row in Delivery.objects.filter(
            contact_id__in=list(caps),
            state=DeliveryState.SENT,
            campaign__transactional=False,
            sent_at__gt=now - dt.timedelta(days=max(periods)),
        )
        .values("contact_id")
        .annotate(**aggregates)
    }
    allowed: list[int] = []
    held: dict[int, dt.datetime] = {}
    for pk, contact_id in rows:
        cap = caps.get(contact_id, FALLBACK)
        counted = history.get(contact_id)
        if counted is None or counted[f"n{cap.days}"] < cap.messages:
            allowed.append(pk)
        else:
            held[pk] = counted[f"first{cap.days}"] + dt.timedelta(days=cap.days)
    return CapDecision(allowed, held)
