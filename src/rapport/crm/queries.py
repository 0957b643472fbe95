"""Read-side queries: contact search and keyset pages that stay fast at millions of rows.

Search is by prefix on indexed columns (email, lower-cased full name, family name, phone),
written as ranges (``col >= term AND col < term + U+FFFF``) so both SQLite and PostgreSQL
walk the index instead of scanning; ``LIKE`` would not use it on either without extra set-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.crm import fields as f
from rapport.crm.models import Contact, Event, ImportJob, Order, OrderLine, Product
from rapport.errors import InvalidInput, NotFound

_TOP = "\uffff"


def _prefix(column: str, term: str) -> Q:
    return Q(**{f"{column}__gte": term, f"{column}__lt": term + _TOP})


def search_q(term: str) -> Q:
    text = " ".join(term.split()).lower()
    if not text:
        return Q()
    if "@" in text:
        return _prefix("email", text)
    condition = (
        _prefix("email", text) | _prefix("search_name", text) | _prefix("family_lower", text)
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


def orders_with_lines(contact_id: int, *, limit: int = 20) -> list[Order]:
    """The contact's newest orders, each with its lines and their products: three queries."""
    lines = OrderLine.objects.select_related("product").order_by("pk")
    return list(
        Order.objects.filter(contact_id=contact_id)
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("-placed_at", "-pk")[:limit]
    )


def recent_import_jobs(*, limit: int = 20) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by").order_by("-pk")[:limit])


# Access-checked reads for the API and the UI: each requires the permission to see customer
# data, and loads what its callers show in one or two queries, whatever the page size.


def contact_page_for(user: User, filters: ContactFilters, *, after: int | None, limit: int) -> Page:
    require(user, Perm.VIEW_CONTACTS)
    queryset = contacts_matching(filters).select_related("company")
    return keyset_page(queryset, after=after, limit=limit)


def get_contact_by_email_for(user: User, email: str) -> Contact:
    require(user, Perm.VIEW_CONTACTS)
    address = _email(email)
    try:
        return Contact.objects.select_related("company").get(email=address)
    except Contact.DoesNotExist:
        raise NotFound(f"No contact with the email {address}.") from None


def product_page_for(
    user: User,
    *,
    category: str = "",
    active: bool | None = None,
    after: int | None,
    limit: int,
) -> Page:
    require(user, Perm.VIEW_CONTACTS)
    queryset = Product.objects.all()
    if category:
        queryset = queryset.filter(category=category.strip().lower())
    if active is not None:
        queryset = queryset.filter(active=active)
    return keyset_page(queryset, after=after, limit=limit)


def get_product_for(user: User, product_id: int) -> Product:
    require(user, Perm.VIEW_CONTACTS)
    try:
        return Product.objects.get(pk=product_id)
    except Product.DoesNotExist:
        raise NotFound(f"No product with id {product_id}.") from None


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("contact").prefetch_related("lines")


def order_page_for(
    user: User,
    *,
    contact_id: int | None = None,
    email: str = "",
    after: int | None,
    limit: int,
) -> Page:
    require(user, Perm.VIEW_CONTACTS)
    queryset = _orders()
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    if email:
        queryset = queryset.filter(contact__email=_email(email))
    return keyset_page(queryset, after=after, limit=limit)


def get_order_for(user: User, order_id: int) -> Order:
    require(user, Perm.VIEW_CONTACTS)
    try:
        return _orders().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"No order with id {order_id}.") from None


def event_page_for(
    user: User,
    *,
    contact_id: int | None = None,
    type: str = "",
    after: int | None,
    limit: int,
) -> Page:
    """Events newest recorded first (by id, not by ``occurred_at``), so that a page boundary
    stays put while events with earlier ``occurred_at`` keep arriving."""
    require(user, Perm.VIEW_CONTACTS)
    queryset = Event.objects.all()
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    if type:
        queryset = queryset.filter(type=type)
    return keyset_page(queryset, after=after, limit=limit)


def get_event_for(user: User, event_id: int) -> Event:
    require(user, Perm.VIEW_CONTACTS)
    try:
        return Event.objects.get(pk=event_id)
    except Event.DoesNotExist:
        raise NotFound(f"No event with id {event_id}.") from None


def _email(raw: str) -> str:
    try:
        return f.normalise_email(raw)
    except f.FieldError as error:
        raise InvalidInput(f"email: {error}", field="email") from None
