"""Writes to the customer database: contacts, products, orders, timeline events.

Every function checks the acting user's role, validates with the same normalisers the
import uses, writes the audit entry, and returns the saved object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.crm import fields as f
from rapport.crm.custom_fields import check_custom_values, load_definitions
from rapport.crm.models import (
    SUPPRESSED_STATUSES,
    Company,
    Contact,
    ContactStatus,
    Event,
    EventType,
    Order,
    OrderLine,
    Product,
)
from rapport.crm.names import search_key
from rapport.crm.signals import orders_changed
from rapport.errors import Conflict, InvalidInput, NotFound


def _text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = str(value or "").strip()
        if len(text) > limit:
            raise f.FieldError(f"is longer than {limit} characters")
        return text

    return check


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return f.split_list(value)
    if isinstance(value, list | tuple):
        return f.split_list(",".join(str(v) for v in value))
    raise f.FieldError("must be a list of words")


def _birthday(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    parsed = f.parse_birthday(str(value))
    return parsed[0] if parsed else None


_CONTACT_CHECKS: dict[str, Callable[[Any], Any]] = {
    "email": lambda v: f.normalise_email(str(v or "")),
    "given_name": _text(100),
    "family_name": _text(100),
    "honorific": lambda v: f.normalise_honorific(str(v or "")),
    "phone": lambda v: f.normalise_phone(str(v or "")),
    "birthday": _birthday,
    "locale": lambda v: f.normalise_locale(str(v or "")),
    "timezone": lambda v: f.normalise_timezone(str(v or "")),
    "country": lambda v: f.normalise_country(str(v or "")),
    "region": _text(100),
    "city": _text(100),
    "audience": lambda v: f.normalise_audience(str(v or "")) or "b2c",
    "interests": _list,
    "tags": _list,
    "status": lambda v: f.normalise_status(str(v or "")),
    "consent_source": _text(200),
    "personalisation": bool,
    "tracking": bool,
}


def clean_contact_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the given contact fields; an error names the field and the value."""
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name == "company":
            cleaned[name] = _text(200)(value)
            continue
        if name == "custom":
            if not isinstance(value, dict):
                raise InvalidInput("custom must be an object of field: value", field="custom")
            try:
                cleaned[name] = check_custom_values(value, load_definitions())
            except f.FieldError as error:
                raise InvalidInput(str(error), field="custom") from None
            continue
        check = _CONTACT_CHECKS.get(name)
        if check is None:
            raise InvalidInput(f"{name!r} is not a contact field.", field=name)
        try:
            cleaned[name] = check(value)
        except f.FieldError as error:
            raise InvalidInput(f"{name}: {error}", field=name) from None
    if "birthday" in data and cleaned.get("birthday"):
        cleaned["birthday_year_known"] = cleaned["birthday"].year != 1904
    return cleaned


def _apply(contact: Contact, values: dict[str, Any], actor: User | None) -> None:
    company = values.pop("company", None)
    if company is not None:
        contact.company = Company.objects.get_or_create(name=company)[0] if company else None
    custom = values.pop("custom", None)
    if custom is not None:
        merged = {**contact.custom, **custom}
        contact.custom = {k: v for k, v in merged.items() if v is not None}
    status = values.pop("status", None)
    if status and status != contact.status:
        if contact.status in SUPPRESSED_STATUSES and status not in SUPPRESSED_STATUSES:
            raise Conflict(
                f"{contact.email} is {contact.status}; only the person can subscribe again "
                "(through a sign-up form with confirmation)."
            )
        contact.status = status
        if status == ContactStatus.SUBSCRIBED:
            contact.consent_at = timezone.now()
            contact.consent_source = values.pop("consent_source", "") or (
                f"added by {actor.get_username()}" if actor else "api"
            )
    for name, value in values.items():
        setattr(contact, name, value)
    contact.search_name = search_key(contact.given_name, contact.family_name)


@transaction.atomic
def create_contact(data: Mapping[str, Any], *, acting_user: User | None) -> Contact:
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTACTS)
    values = clean_contact_values(data)
    if "email" not in values:
        raise InvalidInput("email is required.", field="email")
    # Start from "no consent" so that a subscribed status records when and how it was given.
    contact = Contact(
        email=values.pop("email"),
        source="staff" if acting_user else "api",
        status=ContactStatus.NOT_SUBSCRIBED,
    )
    status = values.pop("status", None) or ContactStatus.SUBSCRIBED
    _apply(contact, {**values, "status": status}, acting_user)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise Conflict(f"A contact with the email {contact.email} exists already.") from None
    record_audit(
        acting_user,
        "contact.create",
        target_type="contact",
        target_id=contact.pk,
        detail={"email": contact.email},
    )
    return contact


def get_contact_for(user: User, contact_id: int) -> Contact:
    require(user, Perm.VIEW_CONTACTS)
    try:
        return Contact.objects.select_related("company").get(pk=contact_id)
    except Contact.DoesNotExist:
        raise NotFound(f"No contact with id {contact_id}.") from None


@transaction.atomic
def update_contact(contact_id: int, data: Mapping[str, Any], *, acting_user: User) -> Contact:
    contact = get_contact_for(acting_user, contact_id)
    require(acting_user, Perm.EDIT_CONTACTS)
    values = clean_contact_values(data)
    before = {name: getattr(contact, name, None) for name in values if name != "custom"}
    new_email = values.get("email", contact.email)
    if new_email != contact.email and Contact.objects.filter(email=new_email).exists():
        raise Conflict(f"Another contact has the email {new_email}.")
    _apply(contact, values, acting_user)
    contact.save()
    record_audit(
        acting_user,
        "contact.update",
        target_type="contact",
        target_id=contact.pk,
        detail={"fields": sorted(data), "before": {k: str(v) for k, v in before.items()}},
    )
    return contact


@transaction.atomic
def delete_contact(contact_id: int, *, acting_user: User) -> None:
    contact = get_contact_for(acting_user, contact_id)
    require(acting_user, Perm.DELETE_CONTACTS)
    email = contact.email
    contact.delete()
    record_audit(
        acting_user,
        "contact.delete",
        target_type="contact",
        target_id=contact_id,
        detail={"email": email},
    )


def _product_values(data: Mapping[str, Any]) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "sku": _text(64),
        "name": _text(200),
        "category": lambda v: _text(100)(v).lower(),
        "price": lambda v: f.parse_decimal(str(v), what="a price"),
        "currency": lambda v: f.normalise_currency(str(v)),
        "consumable": bool,
        "active": bool,
    }
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in checks:
            raise InvalidInput(f"{name!r} is not a product field.", field=name)
        try:
            values[name] = checks[name](value)
        except f.FieldError as error:
            raise InvalidInput(f"{name}: {error}", field=name) from None
    return values


@transaction.atomic
def save_product(
    data: Mapping[str, Any], *, acting_user: User, product_id: int | None = None
) -> Product:
    """Create a product, or update the one with ``product_id``."""
    require(acting_user, Perm.EDIT_CATALOG)
    values = _product_values(data)
    if product_id is None:
        if not values.get("sku") or not values.get("name"):
            raise InvalidInput("A product needs a sku and a name.", field="sku")
        if Product.objects.filter(sku=values["sku"]).exists():
            raise Conflict(f"A product with SKU {values['sku']} exists already.")
        product = Product.objects.create(**values)
        action = "product.create"
    else:
        product = get_product(product_id)
        if (
            values.get("sku", product.sku) != product.sku
            and Product.objects.filter(sku=values["sku"]).exists()
        ):
            raise Conflict(f"Another product has the SKU {values['sku']}.")
        for name, value in values.items():
            setattr(product, name, value)
        product.save()
        action = "product.update"
    record_audit(
        acting_user,
        action,
        target_type="product",
        target_id=product.pk,
        detail={"sku": product.sku},
    )
    return product


def get_product(product_id: int) -> Product:
    try:
        return Product.objects.get(pk=product_id)
    except Product.DoesNotExist:
        raise NotFound(f"No product with id {product_id}.") from None


@transaction.atomic
def delete_product(product_id: int, *, acting_user: User) -> None:
    require(acting_user, Perm.EDIT_CATALOG)
    product = get_product(product_id)
    product.delete()
    record_audit(
        acting_user,
        "product.delete",
        target_type="product",
        target_id=product_id,
        detail={"sku": product.sku},
    )


@dataclass(frozen=True)
class OrderLineInput:
    sku: str
    quantity: int = 1
    unit_price: Decimal = Decimal("0")


@transaction.atomic
def create_order(
    *,
    external_id: str,
    email: str,
    placed_at: dt.datetime,
    currency: str,
    lines: Sequence[OrderLineInput],
    total: Decimal | None = None,
    coupon_code: str = "",
    acting_user: User,
) -> Order:
    """Record an order (and its timeline event); a new buyer is created without consent."""
    require(acting_user, Perm.EDIT_CATALOG)
    if Order.objects.filter(external_id=external_id).exists():
        raise Conflict(f"An order with id {external_id} exists already.")
    try:
        address = f.normalise_email(email)
    except f.FieldError as error:
        raise InvalidInput(f"email: {error}", field="email") from None
    if placed_at.tzinfo is None:
        raise InvalidInput("placed_at needs a time zone offset.", field="placed_at")
    try:
        currency = f.normalise_currency(currency)
    except f.FieldError as error:
        raise InvalidInput(f"currency: {error}", field="currency") from None
    for line in lines:
        if line.quantity < 1:
            raise InvalidInput(f"line {line.sku}: quantity must be at least 1.", field="lines")
    contact, _ = Contact.objects.get_or_create(
        email=address, defaults={"status": ContactStatus.NOT_SUBSCRIBED, "source": "order"}
    )
    if total is None:
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    order = Order.objects.create(
        external_id=external_id,
        contact=contact,
        placed_at=placed_at,
        currency=currency,
        total=total,
        coupon_code=coupon_code.upper(),
        source="api",
    )
    products = dict(
        Product.objects.filter(sku__in=[ln.sku for ln in lines]).values_list("sku", "id")
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product_id=products.get(ln.sku),
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
            )
            for ln in lines
        ]
    )
    Event.objects.create(
        contact=contact,
        type=EventType.ORDERED,
        occurred_at=placed_at,
        order=order,
        data={"total": str(total), "currency": order.currency},
    )
    record_audit(
        acting_user,
        "order.create",
        target_type="order",
        target_id=order.pk,
        detail={"external_id": external_id},
    )
    orders_changed.send(sender=__name__, contact_ids=[contact.pk])
    return order


@transaction.atomic
def delete_order(order_id: int, *, acting_user: User) -> None:
    """Remove an order entered by mistake (a test or a duplicate), with its lines and its
    "ordered" timeline event, so that segments and reports stop counting a purchase that
    never happened. Other events that point at it keep their place, without the link."""
    require(acting_user, Perm.EDIT_CATALOG)
    try:
        order = Order.objects.get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"No order with id {order_id}.") from None
    detail = {
        "external_id": order.external_id,
        "contact_id": order.contact_id,
        "total": str(order.total),
        "currency": order.currency,
    }
    Event.objects.filter(order=order, type=EventType.ORDERED).delete()
    order.delete()
    orders_changed.send(sender=__name__, contact_ids=[detail["contact_id"]])
    record_audit(
        acting_user, "order.delete", target_type="order", target_id=order_id, detail=detail
    )


POSTABLE_EVENT_TYPES = frozenset({EventType.CUSTOM.value, EventType.REPLIED.value})


def record_event(
    *,
    contact_id: int,
    type: str,
    name: str = "",
    occurred_at: dt.datetime | None = None,
    data: Mapping[str, Any] | None = None,
    acting_user: User,
) -> Event:
    """Append an event from an integration to a contact's timeline.

    Only events that change nothing else may come from outside: email engagement is recorded
    by our own pipeline, orders through ``create_order``, and status changes (unsubscribed,
    bounced, complained) through the services that also update the contact and suppression.
    """
    require(acting_user, Perm.EDIT_CONTACTS)
    if type not in POSTABLE_EVENT_TYPES:
        raise InvalidInput(
            f"{type!r} cannot be posted; integrations may post: "
            f"{', '.join(sorted(POSTABLE_EVENT_TYPES))}.",
            field="type",
        )
    if type == EventType.CUSTOM and not name:
        raise InvalidInput("A custom event needs a name, e.g. webinar_attended.", field="name")
    contact = get_contact_for(acting_user, contact_id)
    return Event.objects.create(
        contact=contact,
        type=type,
        name=name[:100],
        occurred_at=occurred_at or timezone.now(),
        data=dict(data or {}),
        actor=acting_user,
    )
