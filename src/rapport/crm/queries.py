"""Read-side queries: contact search and keyset pages that stay fast at millions of rows.

Search is by prefix on indexed columns (email, lower-cased full name, family name, phone),
written as ranges (``col >= term AND col < term + U+FFFF``) so both SQLite and PostgreSQL
walk the index instead of scanning; ``LIKE`` would not use it on either without extra set-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from rapport.crm.models import Contact, Event

_TOP = "\uffff"


def _prefix(column: str, term: str) -> Q:
    return Q(**{f"{column}__gte": term, f"{column}__lt": term + _TOP})


def search_q(term: str) -> Q:
    text = " ".join(term.split()).lower()
    if not text:
        return Q()
    if "@" in text:
        return _prefix("email", text)
    condition = _prefix("email", text) | _prefix("search_name", text) | _prefix(
        "family_lower", text
    )
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "").replace("-", "")) - 1:
        condition |= _prefix("phone", digits)
    return condition


@dataclass(frozen=True)
class ContactFilters:
    q: str = ""
    status: str = ""
    audience: str = ""
    country: str = ""
    tag: str = ""


def contacts_matching(filters: ContactFilters) -> QuerySet[Contact]:
    queryset = Contact.objects.all()
    if filters.q:
        queryset = queryset.alias(family_lower=Lower("family_name")).filter(search_q(filters.q))
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.audience:
        queryset = queryset.filter(audience=filters.audience)
    if filters.country:
        queryset = queryset.filter(country=filters.country.upper())
    if filters.tag:
        queryset = queryset.filter(tags__icontains=f'"{filters.tag.lower()}"')
    return queryset


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: int | None


def keyset_page(queryset: QuerySet[Any], *, after: int | None, limit: int) -> Page:
    """Newest first by id; ``after`` is the last id of the previous page."""
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    items = list(queryset.order_by("-pk")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=items[-1].pk if more and items else None)


def timeline(contact_id: int, *, limit: int = 50) -> list[Event]:
    return list(
        Event.objects.filter(contact_id=contact_id)
        .select_related("order")
        .order_by("-occurred_at", "-pk")[:limit]
    )
