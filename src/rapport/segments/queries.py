"""Reads: how many contacts a rule or segment matches, a sample, overlaps."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.crm.models import Contact
from rapport.crm.queries import Page, keyset_page
from rapport.segments.compiler import RuleCompiler, contacts_for, count_matching
from rapport.segments.models import Segment, SegmentKind
from rapport.segments.rules import parse_rules


@dataclass(frozen=True)
class Count:
    count: int
    ms: float


def rule_queryset(rules: Any, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Contacts matching a rule tree given as JSON (checked first)."""
    return contacts_for(parse_rules(rules), now=now or timezone.now())


def segment_queryset(segment: Segment, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    if segment.kind == SegmentKind.STATIC:
        return Contact.objects.filter(list_memberships__segment=segment)
    return rule_queryset(segment.rules, now=now)


def count_rules(rules: Any, *, now: dt.datetime | None = None) -> Count:
    started = time.perf_counter()
    node = parse_rules(rules)
    count = count_matching(RuleCompiler(now or timezone.now()).compile(node))
    return Count(count=count, ms=round((time.perf_counter() - started) * 1000, 1))


def sample(queryset: QuerySet[Contact], *, limit: int = 10) -> list[Contact]:
    return list(queryset.order_by("-pk")[:limit])


@dataclass(frozen=True)
class Overlap:
    segment_id: int
    name: str
    size: int
    shared: int

    @property
    def share_of_other(self) -> float:
        return self.shared / self.size if self.size else 0.0


def overlaps(
    queryset: QuerySet[Contact], *, exclude_id: int | None = None, now: dt.datetime | None = None
) -> list[Overlap]:
    """How many contacts the given set shares with each saved segment."""
    found = []
    ids = queryset.values("pk")
    others = Segment.objects.order_by("name")
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    for segment in others:
        other = segment_queryset(segment, now=now)
        found.append(
            Overlap(segment.pk, segment.name, other.count(), other.filter(pk__in=ids).count())
        )
    return found


# Below this many contacts a segment is rarely worth a campaign of its own.
SMALL_SEGMENT = 50
# Two segments sharing this much of both of their members are, for sending, the same.
DUPLICATE_SHARE = 0.9


@dataclass(frozen=True)
class Advice:
    code: str  # "empty", "small", "duplicate"
    segment_name: str = ""
    count: int = 0


def advise(count: int, found_overlaps: list[Overlap]) -> list[Advice]:
    """Gentle warnings: too many small, overlapping segments make the work harder."""
    advice = []
    if count == 0:
        advice.append(Advice("empty"))
    elif count < SMALL_SEGMENT:
        advice.append(Advice("small", count=count))
    for other in found_overlaps:
        if (
            count
            and other.size
            and (
                other.shared / count >= DUPLICATE_SHARE and other.share_of_other >= DUPLICATE_SHARE
            )
        ):
            advice.append(Advice("duplicate", segment_name=other.name, count=other.shared))
    return advice


# Access-checked reads for the API: each requires the permission to see customer data.


def segment_page_for(user: User, *, after: int | None, limit: int) -> Page:
    """Saved segments, newest first, as a keyset page."""
    require(user, Perm.VIEW_CONTACTS)
    return keyset_page(Segment.objects.all(), after=after, limit=limit)


def count_rules_for(user: User, rules: Any) -> Count:
    """``count_rules`` for someone who may see contacts; a bad rule raises ``RuleError``."""
    require(user, Perm.VIEW_CONTACTS)
    return count_rules(rules)


def member_page(segment: Segment, *, after: int | None, limit: int) -> Page:
    """The segment's contacts, newest first; the caller looked the segment up with an access
    check (``services.get_segment_for``)."""
    queryset = segment_queryset(segment).select_related("company")
    return keyset_page(queryset, after=after, limit=limit)


# Reads for the segment pages of the UI.


def segment_list_for(user: User) -> list[Segment]:
    """Every saved segment for the list page: built-ins first, then by name; one query."""
    require(user, Perm.VIEW_CONTACTS)
    return list(Segment.objects.order_by("-builtin", "name"))


def count_segment(segment: Segment) -> Count:
    """How many contacts a saved segment holds now (a static list: its members)."""
    if segment.kind == SegmentKind.RULES:
        return count_rules(segment.rules)
    started = time.perf_counter()
    count = segment.members.count()
    return Count(count=count, ms=round((time.perf_counter() - started) * 1000, 1))
