"""/api/v1/segments: saved rule segments and static lists, live counts, list members."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, model_validator

from rapport.api.common import ERRORS, PageQuery, acting_user, decode_cursor, page_body
from rapport.api.contacts import ContactPage
from rapport.segments import queries, services
from rapport.segments.models import Segment, SegmentKind

router = Router(tags=["segments"])

_RULES_DOC = (
    'a rule tree: {"all": [cond, {"any": [...]}, {"not": cond}]}, '
    'cond = {"field": "orders.count", "op": "gte", "value": 2}'
)
# Member changes name contacts in one IN list; keep it well inside every database's limits.
MAX_MEMBERS_PER_CALL = 1000


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str = Field(description="rules (members computed) or static (a list kept by hand)")
    rules: dict[str, Any]
    builtin: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class SegmentDetailOut(SegmentOut):
    count: int = Field(description="contacts matching now")


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class _Strict(Schema):
    # A misspelt field should be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class SegmentIn(_Strict):
    name: str = Field(min_length=1, max_length=120)
    kind: SegmentKind = SegmentKind.RULES
    rules: dict[str, Any] | None = Field(None, description=f"required for kind rules; {_RULES_DOC}")
    description: str = ""


class SegmentPatch(_Strict):
    """Only the fields sent change; none of them may be null."""

    name: str = Field("", min_length=1, max_length=120)
    kind: SegmentKind = SegmentKind.RULES
    rules: dict[str, Any] = Field(default_factory=dict, description=_RULES_DOC)
    description: str = ""


class CountIn(_Strict):
    rules: dict[str, Any] = Field(description=_RULES_DOC)


class CountOut(Schema):
    count: int
    ms: float = Field(description="how long the count took, in milliseconds")


class MembersIn(_Strict):
    emails: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS_PER_CALL)
    contact_ids: list[int] = Field(default_factory=list, max_length=MAX_MEMBERS_PER_CALL)

    @model_validator(mode="after")
    def _names_someone(self) -> MembersIn:
        if not self.emails and not self.contact_ids:
            raise ValueError("send emails or contact_ids (or both), not neither")
        return self


class MemberIdsIn(_Strict):
    contact_ids: list[int] = Field(min_length=1, max_length=MAX_MEMBERS_PER_CALL)


class AddedOut(Schema):
    added: int


class RemovedOut(Schema):
    removed: int


@router.get("", response={200: SegmentPage, **ERRORS})
def list_segments(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """Newest first, built-in segments included; no counts (ask one segment for its count)."""
    page = queries.segment_page_for(
        acting_user(request), after=decode_cursor(query.cursor), limit=query.limit
    )
    return page_body(page)


@router.get("/{int:segment_id}", response={200: SegmentDetailOut, **ERRORS})
def get_segment(request: HttpRequest, segment_id: int) -> SegmentDetailOut:
    """The segment with how many contacts it matches at this moment."""
    segment = services.get_segment_for(acting_user(request), segment_id)
    count = queries.segment_queryset(segment).count()
    return SegmentDetailOut(**SegmentOut.model_validate(segment).model_dump(), count=count)


@router.post("", response={201: SegmentOut, **ERRORS})
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status[Segment]:
    """A bad rule is a 400 whose ``field`` is the place in the rule, e.g. ``all[2].value``."""
    segment = services.save_segment(**payload.model_dump(), acting_user=acting_user(request))
    return Status(201, segment)


@router.patch("/{int:segment_id}", response={200: SegmentOut, **ERRORS})
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Segment:
    """Only the fields sent change; a built-in segment keeps its rules (409)."""
    user = acting_user(request)
    current = services.get_segment_for(user, segment_id)
    unchanged = {
        "name": current.name,
        "kind": current.kind,
        "rules": current.rules,
        "description": current.description,
    }
    changes = payload.model_dump(exclude_unset=True)
    return services.save_segment(**(unchanged | changes), segment_id=segment_id, acting_user=user)


@router.delete("/{int:segment_id}", response={204: None, **ERRORS})
def delete_segment(request: HttpRequest, segment_id: int) -> Status[None]:
    """Built-in segments cannot be deleted (409); a list's memberships go with it."""
    services.delete_segment(segment_id, acting_user=acting_user(request))
    return Status(204, None)


@router.post("/count", response={200: CountOut, **ERRORS})
def count_rules(request: HttpRequest, payload: CountIn) -> queries.Count:
    """How many contacts a rule matches now, without saving it."""
    return queries.count_rules_for(acting_user(request), payload.rules)


@router.get("/{int:segment_id}/members", response={200: ContactPage, **ERRORS})
def list_members(request: HttpRequest, segment_id: int, query: Query[PageQuery]) -> dict[str, Any]:
    """The contacts in the segment, newest first, shaped as in /contacts."""
    segment = services.get_segment_for(acting_user(request), segment_id)
    page = queries.member_page(segment, after=decode_cursor(query.cursor), limit=query.limit)
    return page_body(page)


@router.post("/{int:segment_id}/members", response={200: AddedOut, **ERRORS})
def add_members(request: HttpRequest, segment_id: int, payload: MembersIn) -> dict[str, int]:
    """Static lists only; an unknown email or id is a 404 and adds no one."""
    added = services.add_members(
        segment_id,
        emails=payload.emails,
        contact_ids=payload.contact_ids,
        source="api",
        acting_user=acting_user(request),
    )
    return {"added": added}


@router.delete("/{int:segment_id}/members", response={200: RemovedOut, **ERRORS})
def remove_members(request: HttpRequest, segment_id: int, payload: MemberIdsIn) -> dict[str, int]:
    """Static lists only; ids that are not members are skipped."""
    removed = services.remove_members(
        segment_id, contact_ids=payload.contact_ids, acting_user=acting_user(request)
    )
    return {"removed": removed}
