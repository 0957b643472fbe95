"""Writes for segments: saved rule segments, static lists and their members, built-ins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.campaigns.models import Campaign
from rapport.crm.models import Contact
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.lookup import by_id_or_name
from rapport.segments import facts
from rapport.segments.builtin import BUILTIN_SEGMENTS
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from rapport.segments.rules import parse_rules


def ensure_builtin_segments() -> int:
    """Create the lifecycle and VIP segments when missing; runs after every ``migrate``, so
    a new install has them. Returns how many were created."""
    created = 0
    for name, description, rules in BUILTIN_SEGMENTS:
        _, was_created = Segment.objects.get_or_create(
            name=name, defaults={"description": description, "rules": rules, "builtin": True}
        )
        created += was_created
    return created


def rescore_rfm(now: dt.datetime) -> None:
    """Recompute RFM cut points and scores (the scheduler runs this daily)."""
    facts.rescore(now)


def get_segment_for(user: User | None, segment_ref: int | str) -> Segment:
    """A segment by id or by name; ``user`` None is the trusted CLI."""
    if user is not None:
        require(user, Perm.VIEW_CONTACTS)
    return by_id_or_name(Segment.objects.all(), segment_ref, "segment")


@transaction.atomic
def save_segment(
    *,
    name: str,
    kind: str = SegmentKind.RULES,
    rules: Any = None,
    description: str = "",
    segment_id: int | None = None,
    acting_user: User | None,
) -> Segment:
    """Create or update a segment; rules are checked, names are unique."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTACTS)
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("A segment needs a name of 1 to 120 characters.", field="name")
    if kind not in SegmentKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(SegmentKind.values)}.", field="kind")
    if kind == SegmentKind.RULES:
        parse_rules(rules)
    segment = Segment() if segment_id is None else get_segment_for(acting_user, segment_id)
    if segment.builtin and (
        name != segment.name
        or kind != segment.kind
        or (rules is not None and rules != segment.rules)
    ):
        raise Conflict(f"{segment.name} is built in; copy it to change its name or rules.")
    if segment.pk and segment.kind == SegmentKind.STATIC and kind != SegmentKind.STATIC:
        segment.members.all().delete()  # a rule segment has no hand-picked members
    segment.name, segment.kind, segment.description = name, kind, description
    segment.rules = rules if kind == SegmentKind.RULES else {}
    if segment_id is None:
        segment.created_by = acting_user
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise Conflict(f"A segment named {name!r} exists already.") from None
    record_audit(
        acting_user,
        "segment.save",
        target_type="segment",
        target_id=segment.pk,
        detail={"name": name, "kind": kind},
    )
    return segment


@transaction.atomic
def delete_segment(segment_id: int, *, acting_user: User | None) -> None:
    segment = get_segment_for(acting_user, segment_id)
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTACTS)
    if segment.builtin:
        raise Conflict(f"{segment.name} is built in and cannot be deleted.")
    used_by = list(
        Campaign.objects.filter(audience__segment=segment).values_list("name", flat=True)[:3]
    )
    if used_by:  # a campaign's report must keep saying whom it went to
        raise Conflict(
            f"{segment.name} is the audience of the campaign {', '.join(used_by)}; "
            "it cannot be deleted."
        )
    segment.delete()
    record_audit(
        acting_user,
        "segment.delete",
        target_type="segment",
        target_id=segment_id,
        detail={"name": segment.name},
    )


def _static(segment: Segment) -> Segment:
    if segment.kind != SegmentKind.STATIC:
        raise InvalidInput(f"{segment.name} is defined by rules; members are added to lists.")
    return segment


@transaction.atomic
def add_members(
    segment_id: int,
    *,
    emails: Iterable[str] = (),
    contact_ids: Iterable[int] = (),
    source: str = "",
    acting_user: User | None,
) -> int:
    """Add contacts to a static list by email or id; returns how many were new members."""
    segment = _static(get_segment_for(acting_user, segment_id))
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTACTS)
    wanted = set(contact_ids)
    emails = [e.strip().lower() for e in emails]
    if emails:
        found = dict(Contact.objects.filter(email__in=emails).values_list("email", "pk"))
        missing = sorted(set(emails) - found.keys())
        if missing:
            raise NotFound(
                f"No contact with the email {missing[0]}"
                + (f" (and {len(missing) - 1} more)." if len(missing) > 1 else ".")
            )
        wanted |= set(found.values())
    existing_ids = set(Contact.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - existing_ids:
        raise NotFound(f"No contact with id {min(wanted - existing_ids)}.")
    already = set(
        segment.members.filter(contact_id__in=wanted).values_list("contact_id", flat=True)
    )
    new = sorted(wanted - already)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, contact_id=cid, source=source) for cid in new],
        ignore_conflicts=True,
    )
    record_audit(
        acting_user,
        "segment.members.add",
        target_type="segment",
        target_id=segment.pk,
        detail={"added": len(new)},
    )
    return len(new)


@transaction.atomic
def remove_members(segment_id: int, *, contact_ids: Iterable[int], acting_user: User | None) -> int:
    segment = _static(get_segment_for(acting_user, segment_id))
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTACTS)
    removed, _ = segment.members.filter(contact_id__in=list(contact_ids)).delete()
    record_audit(
        acting_user,
        "segment.members.remove",
        target_type="segment",
        target_id=segment.pk,
        detail={"removed": removed},
    )
    return removed


def find_static_list(name_or_id: str | int) -> int:
    """The id of a static list by name or id; raises if it is missing or rule-based."""
    return _static(get_segment_for(None, name_or_id)).pk


def add_list_members(segment_id: int, contact_ids: Iterable[int], *, source: str) -> None:
    """Add contacts to a static list in bulk (imports); existing members are left as they are."""
    SegmentMember.objects.bulk_create(
        [
            SegmentMember(segment_id=segment_id, contact_id=cid, source=source)
            for cid in set(contact_ids)
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
