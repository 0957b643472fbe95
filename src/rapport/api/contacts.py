"""/api/v1/contacts: list, read, create, update and delete contacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rapport.api.common import (
    ERRORS,
    PageQuery,
    acting_user,
    decode_cursor,
    page_body,
)
from rapport.crm import queries, services
from rapport.crm.models import Audience, Contact, ContactStatus

router = Router(tags=["contacts"])


class ContactOut(Schema):
    id: int
    email: str
    given_name: str
    family_name: str
    display_name: str
    honorific: str
    phone: str
    birthday: dt.date | None
    birthday_year_known: bool = Field(
        description="false when only the month and day are known (the year is then 1904)"
    )
    locale: str
    timezone: str
    country: str
    region: str
    city: str
    audience: str
    company: str | None
    interests: list[str]
    tags: list[str]
    custom: dict[str, Any]
    status: str
    consent_source: str
    consent_at: dt.datetime | None
    personalisation: bool
    tracking: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_company(contact: Contact) -> str | None:
        return contact.company.name if contact.company else None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactQuery(PageQuery):
    q: str = Field("", description="prefix of the email, the name, the family name or phone")
    status: ContactStatus | None = None
    audience: Audience | None = None
    country: str = Field("", pattern=r"^([A-Za-z]{2})?$", description="ISO 3166 code, e.g. CN")
    tag: str = ""


class _ContactFields(Schema):
    """The writable fields; the services normalise each one as an import would."""

    # A misspelt field should be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    given_name: str | None = None
    family_name: str | None = None
    honorific: str | None = Field(None, description="mr, ms, mx, dr (or 先生, 女士)")
    phone: str | None = None
    birthday: str | None = Field(
        None, description="ISO date, or the month and day alone (--03-08) when the year is unknown"
    )
    locale: str | None = Field(None, description="e.g. en, zh-CN")
    timezone: str | None = Field(None, description="IANA name, e.g. Asia/Shanghai")
    country: str | None = None
    region: str | None = None
    city: str | None = None
    audience: str | None = Field(None, description="b2b, b2c or nonprofit")
    company: str | None = Field(None, description="company name; empty to clear")
    interests: list[str] | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = Field(
        None, description="custom field values by key; null removes a value"
    )
    status: str | None = Field(
        None, description="subscribed, pending, not_subscribed, unsubscribed, …"
    )
    consent_source: str | None = None
    personalisation: bool | None = None
    tracking: bool | None = Field(None, description="false: no open pixel, tracked links or events")


class ContactIn(_ContactFields):
    email: str


class ContactPatch(_ContactFields):
    email: str | None = None


@router.get("", response={200: ContactPage, **ERRORS})
def list_contacts(request: HttpRequest, query: Query[ContactQuery]) -> dict[str, Any]:
    """Newest first; filters combine with AND."""
    filters = queries.ContactFilters(
        q=query.q,
        status=query.status.value if query.status else "",
        audience=query.audience.value if query.audience else "",
        country=query.country,
        tag=query.tag,
    )
    page = queries.contact_page_for(
        acting_user(request), filters, after=decode_cursor(query.cursor), limit=query.limit
    )
    return page_body(page)


@router.get("/{int:contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    return services.get_contact_for(acting_user(request), contact_id)


@router.post("", response={201: ContactOut, **ERRORS})
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    """A new contact is subscribed unless ``status`` says otherwise."""
    contact = services.create_contact(
        payload.model_dump(exclude_unset=True), acting_user=acting_user(request)
    )
    return Status(201, contact)


@router.patch("/{int:contact_id}", response={200: ContactOut, **ERRORS})
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    """Only the fields sent change; an unsubscribed contact cannot be subscribed again here."""
    return services.update_contact(
        contact_id, payload.model_dump(exclude_unset=True), acting_user=acting_user(request)
    )


@router.delete("/{int:contact_id}", response={204: None, **ERRORS})
def delete_contact(request: HttpRequest, contact_id: int) -> Status[None]:
    """Deletes the contact together with their orders and timeline events."""
    services.delete_contact(contact_id, acting_user=acting_user(request))
    return Status(204, None)
