"""/api/v1/events: the contacts' timelines, and custom events sent by integrations.

Events are append-only, the record of what happened: there is no update, and the API offers
no delete (an event goes only with its contact, or with an order deleted as a mistake).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime, ConfigDict, model_validator

from rapport.api.common import ERRORS, PageQuery, acting_user, decode_cursor, page_body
from rapport.crm import queries, services
from rapport.crm.models import Event, EventType

router = Router(tags=["events"])


class EventOut(Schema):
    id: int
    contact_id: int
    type: str
    name: str
    occurred_at: dt.datetime
    campaign_id: int | None
    order_id: int | None
    data: dict[str, Any]


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class EventQuery(PageQuery):
    contact_id: int | None = None
    type: EventType | None = None


class EventIn(Schema):
    """The contact by ``contact_id`` or by ``email`` (one of the two)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = None
    email: str | None = None
    type: EventType = EventType.CUSTOM
    name: str = Field("", max_length=100, description="required for custom events")
    occurred_at: AwareDatetime | None = Field(None, description="defaults to now")
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_contact(self) -> Self:
        if (self.contact_id is None) == (not self.email):
            raise ValueError("give the contact as contact_id or as email (one of the two)")
        return self


@router.get("", response={200: EventPage, **ERRORS})
def list_events(request: HttpRequest, query: Query[EventQuery]) -> dict[str, Any]:
    """Newest recorded first (by id); ``occurred_at`` is when it happened."""
    page = queries.event_page_for(
        acting_user(request),
        contact_id=query.contact_id,
        type=query.type.value if query.type else "",
        after=decode_cursor(query.cursor),
        limit=query.limit,
    )
    return page_body(page)


@router.get("/{int:event_id}", response={200: EventOut, **ERRORS})
def get_event(request: HttpRequest, event_id: int) -> Event:
    return queries.get_event_for(acting_user(request), event_id)


@router.post("", response={201: EventOut, **ERRORS})
def create_event(request: HttpRequest, payload: EventIn) -> Status[Event]:
    user = acting_user(request)
    contact_id = payload.contact_id
    if contact_id is None:
        contact_id = queries.get_contact_by_email_for(user, payload.email or "").pk
    event = services.record_event(
        contact_id=contact_id,
        type=payload.type.value,
        name=payload.name,
        occurred_at=payload.occurred_at,
        data=payload.data,
        acting_user=user,
    )
    # Read back, so that the answer is the same as a GET's (times in UTC).
    return Status(201, queries.get_event_for(user, event.pk))
