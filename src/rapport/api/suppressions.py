"""/api/v1/suppressions: look up, block and unblock addresses (or whole ``@domain``s) on the
do-not-send list. The rules (who may remove what, erased entries stay) are the services'."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.api.common import ERRORS, PageQuery, acting_user, decode_cursor, encode_cursor
from rapport.delivery import suppressions as services
from rapport.delivery.models import SuppressionReason

router = Router(tags=["suppressions"])


class SuppressionOut(Schema):
    email: str = Field(description="a normalised address, or @domain for a whole domain")
    reason: str
    source: str
    note: str
    added_by: str = Field(description="the staff member who blocked it by hand, if one did")
    created_at: dt.datetime


class SuppressionPage(Schema):
    items: list[SuppressionOut]
    next_cursor: str | None


class SuppressionQuery(PageQuery):
    q: str = Field("", description="part of an address, or @domain for a domain's entries")
    reason: SuppressionReason | None = None


class SuppressionIn(Schema):
    email: str = Field(description="an address, or @example.com to block the whole domain")
    note: str = ""


class RemovalIn(Schema):
    reason: str = Field(description="why the entry goes; written to the audit log")


@router.get("", response={200: SuppressionPage, **ERRORS})
def list_suppressions(request: HttpRequest, query: Query[SuppressionQuery]) -> dict[str, Any]:
    """Newest first."""
    page = services.list_suppressions(
        acting_user(request),
        q=query.q,
        reason=query.reason.value if query.reason else "",
        after=decode_cursor(query.cursor),
        limit=query.limit,
    )
    return {"items": page.entries, "next_cursor": encode_cursor(page.next_after)}


@router.post("", response={201: SuppressionOut, **ERRORS})
def add_suppression(request: HttpRequest, payload: SuppressionIn) -> Status[Any]:
    """Block by hand (reason ``blocked``); 409 when the address is on the list already."""
    entry = services.add_suppression(
        payload.email, note=payload.note, acting_user=acting_user(request)
    )
    return Status(201, entry)


@router.delete("/{email}", response={204: None, **ERRORS})
def remove_suppression(request: HttpRequest, email: str, payload: RemovalIn) -> Status[None]:
    """Take an address off the list. The contact is not subscribed again: their status and
    consent stay as they are. Erased entries cannot be removed; complaints and domains only
    by an owner or admin."""
    services.remove_suppression(email, reason=payload.reason, acting_user=acting_user(request))
    return Status(204, None)
