"""The fields a segment rule may name, their kinds, and where their data lives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from rapport.crm.models import Audience, ContactStatus, CustomField, CustomFieldType, Honorific


class FieldKind(StrEnum):
    TEXT = "text"
    ENUM = "enum"
    LIST = "list"  # a JSON array on the contact, or the SKUs/categories someone bought
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"
    ACTIVITY = "activity"  # email events: counted, or dated by within_days/before_days


class Source(StrEnum):
    CONTACT = "contact"  # a column of crm_contact (``column`` is its ORM path)
    FACTS = "facts"  # a column of ContactFacts (buyers only)
    ORDERS = "orders"  # counted or summed over orders, optionally in a window
    BOUGHT = "bought"  # the SKUs or categories of order lines
    EVENTS = "events"  # email events of ``event_type``
    LIFECYCLE = "lifecycle"
    CUSTOM = "custom"  # Contact.custom[key]


def _same(value: str) -> str:
    return value


def _lower(value: str) -> str:
    return value.strip().lower()


def _upper(value: str) -> str:
    return value.strip().upper()


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    source: Source
    column: str = ""
    choices: frozenset[str] = frozenset()
    normalise: Callable[[str], str] = _same
    windowed: bool = False
    value_kind: str = "number"  # for ACTIVITY comparisons: counts are numbers
    event_type: str = ""
    extra_ops: frozenset[str] = field(default_factory=frozenset)
    nullable: bool = False

    def item_spec(self) -> FieldSpec:
        """The spec of one item, for ``in`` lists and list ``contains``."""
        if self.kind == FieldKind.LIST:
            return replace(self, kind=FieldKind.TEXT)
        return self


LIFECYCLE_STAGES = frozenset({"potential", "new", "one_time", "returning", "lapsed"})


def _text(
    name: str, column: str | None = None, normalise: Callable[[str], str] = _same
) -> FieldSpec:
    return FieldSpec(name, FieldKind.TEXT, Source.CONTACT, column or name, normalise=normalise)


def _enum(name: str, choices: list[str], source: Source = Source.CONTACT) -> FieldSpec:
    return FieldSpec(
        name, FieldKind.ENUM, source, name, choices=frozenset(choices), normalise=_lower
    )


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in [
        _text("email", normalise=_lower),
        _text("given_name"),
        _text("family_name"),
        _text("phone"),
        _text("city"),
        _text("region"),
        _text("country", normalise=_upper),
        _text("locale"),
        _text("timezone"),
        _text("company", "company__name"),
        _text("source"),
        _enum("audience", Audience.values),
        _enum("status", ContactStatus.values),
        _enum("honorific", [h for h in Honorific.values if h]),
        FieldSpec("personalisation", FieldKind.BOOL, Source.CONTACT, "personalisation"),
        FieldSpec("created_at", FieldKind.DATE, Source.CONTACT, "created_at"),
        FieldSpec(
            "birthday",
            FieldKind.DATE,
            Source.CONTACT,
            "birthday",
            nullable=True,
            extra_ops=frozenset({"within_next_days"}),
        ),
        FieldSpec("interests", FieldKind.LIST, Source.CONTACT, "interests", normalise=_lower),
        FieldSpec("tags", FieldKind.LIST, Source.CONTACT, "tags", normalise=_lower),
        FieldSpec("orders.count", FieldKind.NUMBER, Source.ORDERS, "count", windowed=True),
        FieldSpec("orders.total", FieldKind.NUMBER, Source.ORDERS, "total", windowed=True),
        FieldSpec("orders.first_at", FieldKind.DATE, Source.FACTS, "first_order_at"),
        FieldSpec("orders.last_at", FieldKind.DATE, Source.FACTS, "last_order_at"),
        FieldSpec("orders.product", FieldKind.LIST, Source.BOUGHT, "sku", windowed=True),
        FieldSpec(
            "orders.category",
            FieldKind.LIST,
            Source.BOUGHT,
            "product__category",
            windowed=True,
            normalise=_lower,
        ),
        FieldSpec(
            "email.received", FieldKind.ACTIVITY, Source.EVENTS, windowed=True, event_type="sent"
        ),
        FieldSpec(
            "email.opened", FieldKind.ACTIVITY, Source.EVENTS, windowed=True, event_type="opened"
        ),
        FieldSpec(
            "email.clicked", FieldKind.ACTIVITY, Source.EVENTS, windowed=True, event_type="clicked"
        ),
        FieldSpec("email.last_open_at", FieldKind.DATE, Source.EVENTS, event_type="opened"),
        _enum("lifecycle", sorted(LIFECYCLE_STAGES), Source.LIFECYCLE),
        FieldSpec("rfm.r", FieldKind.NUMBER, Source.FACTS, "r_score"),
        FieldSpec("rfm.f", FieldKind.NUMBER, Source.FACTS, "f_score"),
        FieldSpec("rfm.m", FieldKind.NUMBER, Source.FACTS, "m_score"),
    ]
}

_CUSTOM_KINDS = {
    CustomFieldType.TEXT: FieldKind.TEXT,
    CustomFieldType.NUMBER: FieldKind.NUMBER,
    CustomFieldType.DATE: FieldKind.DATE,
    CustomFieldType.BOOLEAN: FieldKind.BOOL,
    CustomFieldType.CHOICE: FieldKind.ENUM,
}


def custom_field_spec(name: str) -> FieldSpec | None:
    """``custom.<key>`` typed by the user's definition of that field, or None."""
    if not name.startswith("custom."):
        return None
    definition = CustomField.objects.filter(key=name[7:]).first()
    if definition is None:
        return None
    kind = _CUSTOM_KINDS[CustomFieldType(definition.type)]
    return FieldSpec(
        name,
        kind,
        Source.CUSTOM,
        definition.key,
        nullable=True,
        choices=frozenset(definition.choices) if kind == FieldKind.ENUM else frozenset(),
        normalise=_same,
    )
