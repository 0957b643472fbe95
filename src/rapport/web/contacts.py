"""Read side of the contact pages: one list page and one contact, in a fixed number of queries.

The list shows a total only without filters: counting a filtered set means reading all of it,
which at a million contacts would cost more than the page itself. Paging is by keyset
(``?after=<id>``), never OFFSET, so page 500 is as fast as page 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Field
from django.utils import formats
from django.utils.translation import gettext as _

from rapport.crm.custom_fields import load_definitions
from rapport.crm.models import BIRTHDAY_UNKNOWN_YEAR, Contact, Event, Order
from rapport.crm.queries import (
    ContactFilters,
    contacts_matching,
    keyset_page,
    orders_with_lines,
    timeline,
)

PAGE_SIZE = 50
ORDERS_SHOWN = 20
EVENTS_SHOWN = 50


@dataclass(frozen=True)
class ContactList:
    contacts: list[Contact]
    next_cursor: int | None
    total: int | None  # None when filtered: see the module docstring


def contact_list(filters: ContactFilters, *, after: int | None) -> ContactList:
    queryset = contacts_matching(filters).select_related("company")
    page = keyset_page(queryset, after=after, limit=PAGE_SIZE)
    unfiltered = filters == ContactFilters()
    return ContactList(
        contacts=page.items,
        next_cursor=page.next_cursor,
        total=Contact.objects.count() if unfiltered else None,
    )


@dataclass(frozen=True)
class ProfileRow:
    label: str
    value: str


# The profile in reading order; labels are the models' translated verbose names.
PROFILE_FIELDS = (
    "email",
    "honorific",
    "given_name",
    "family_name",
    "phone",
    "birthday",
    "locale",
    "timezone",
    "country",
    "region",
    "city",
    "audience",
    "company",
    "interests",
    "tags",
    "status",
    "consent_source",
    "consent_at",
    "personalisation",
    "tracking",
)


def _text(contact: Contact, name: str) -> str:
    value: Any = getattr(contact, name)
    if name == "honorific" and not value:
        return ""
    if name in {"honorific", "audience", "status"}:
        return str(getattr(contact, f"get_{name}_display")())
    if name == "birthday" and value is not None:
        if not contact.birthday_year_known or value.year == BIRTHDAY_UNKNOWN_YEAR:
            return formats.date_format(value, "MONTH_DAY_FORMAT")
        return formats.date_format(value, "DATE_FORMAT")
    return display_value(value)


def display_value(value: Any) -> str:
    """A stored value as text for a person: lists joined, booleans as Yes/No, dates local."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dt.datetime):
        return formats.date_format(value, "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def _label(name: str) -> str:
    if name == "company":  # the foreign key has no translated verbose name of its own
        return _("Company")
    field = Contact._meta.get_field(name)
    assert isinstance(field, Field)
    return str(field.verbose_name)


def profile_rows(contact: Contact) -> list[ProfileRow]:
    rows = []
    for name in PROFILE_FIELDS:
        label = _label(name)
        rows.append(ProfileRow(label=label[:1].upper() + label[1:], value=_text(contact, name)))
    return rows


def custom_rows(contact: Contact) -> list[ProfileRow]:
    """Custom values under their defined labels; keys without a definition keep their key."""
    definitions = load_definitions() if contact.custom else {}
    rows = []
    for key, value in sorted(contact.custom.items()):
        definition = definitions.get(key)
        rows.append(
            ProfileRow(label=definition.label if definition else key, value=display_value(value))
        )
    return rows


@dataclass(frozen=True)
class ContactDetail:
    contact: Contact
    profile: list[ProfileRow]
    custom: list[ProfileRow]
    orders: list[Order]
    more_orders: bool
    events: list[Event]


def contact_detail(contact: Contact) -> ContactDetail:
    orders = orders_with_lines(contact.pk, limit=ORDERS_SHOWN + 1)
    return ContactDetail(
        contact=contact,
        profile=profile_rows(contact),
        custom=custom_rows(contact),
        orders=orders[:ORDERS_SHOWN],
        more_orders=len(orders) > ORDERS_SHOWN,
        events=timeline(contact.pk, limit=EVENTS_SHOWN),
    )
