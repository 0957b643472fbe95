"""What the segment builder offers: fields by group, operators per field, value inputs.

Everything here is read from the rule language's registry (``rapport.segments.fields``) and
its operator table, so the builder can only offer what ``parse_rules`` accepts; this module
adds the words a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.crm.custom_fields import load_definitions
from rapport.crm.models import Audience, ContactStatus, Honorific
from rapport.segments.fields import FIELDS, FieldKind, FieldSpec, custom_field_spec
from rapport.segments.rules import OPS_BY_KIND

FIELD_LABELS: dict[str, Promise] = {
    "email": _("Email"),
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    "phone": _("Phone"),
    "city": _("City"),
    "region": _("Region"),
    "country": _("Country"),
    "locale": _("Locale"),
    "timezone": _("Time zone"),
    "company": _("Company"),
    "source": _("Source"),
    "audience": _("Audience"),
    "status": _("Status"),
    "honorific": _("Honorific"),
    "personalisation": _("Personalisation allowed"),
    "created_at": _("Added"),
    "birthday": _("Birthday"),
    "interests": _("Interests"),
    "tags": _("Tags"),
    "orders.count": _("Number of orders"),
    "orders.total": _("Amount spent"),
    "orders.first_at": _("First order"),
    "orders.last_at": _("Last order"),
    "orders.product": _("Bought product (SKU)"),
    "orders.category": _("Bought product category"),
    "email.received": _("Emails received"),
    "email.opened": _("Emails opened"),
    "email.clicked": _("Emails clicked"),
    "email.last_open_at": _("Last email opened"),
    "lifecycle": _("Lifecycle stage"),
    "rfm.r": _("RFM recency score (1-5)"),
    "rfm.f": _("RFM frequency score (1-5)"),
    "rfm.m": _("RFM monetary score (1-5)"),
}

GROUP_LABELS: dict[str, Promise] = {
    "contact": _("Contact"),
    "orders": _("Purchases"),
    "email": _("Email engagement"),
    "lifecycle": _("Lifecycle & RFM"),
    "custom": _("Custom fields"),
}

OP_LABELS: dict[str, Promise] = {
    "eq": _("is"),
    "neq": _("is not"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "between": _("is between"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "starts_with": _("starts with"),
    "within_days": _("within the last … days"),
    "before_days": _("more than … days ago"),
    "within_next_days": _("within the next … days"),
    "is_set": _("is set"),
    "is_not_set": _("is not set"),
}
# Dates read better as before/after than as less/more.
DATE_OP_LABELS: dict[str, Promise] = {
    "eq": _("is on"),
    "gt": _("is after"),
    "gte": _("is on or after"),
    "lt": _("is before"),
    "lte": _("is on or before"),
}
LIST_OP_LABELS: dict[str, Promise] = {
    "in": _("has any of"),
    "not_in": _("has none of"),
}
OP_ORDER = tuple(OP_LABELS)
DEFAULT_OP = {
    FieldKind.LIST: "contains",
    FieldKind.NUMBER: "gte",
    FieldKind.DATE: "within_days",
    FieldKind.ACTIVITY: "within_days",
}

LIFECYCLE_LABELS: dict[str, Promise] = {
    "potential": _("Potential customer"),
    "new": _("New customer"),
    "one_time": _("One-time buyer"),
    "returning": _("Returning customer"),
    "lapsed": _("Lapsed customer"),
}
_CHOICE_LABELS: dict[str, dict[str, str | Promise]] = {
    "audience": dict(Audience.choices),
    "status": dict(ContactStatus.choices),
    "honorific": dict(Honorific.choices),
    "lifecycle": dict(LIFECYCLE_LABELS),
}


@dataclass(frozen=True)
class FieldOption:
    name: str
    label: str
    group: str
    spec: FieldSpec


def _group_of(name: str) -> str:
    if name.startswith(("orders.", "custom.", "email.")):
        return name.split(".", 1)[0]
    if name == "lifecycle" or name.startswith("rfm."):
        return "lifecycle"
    return "contact"


class Catalogue:
    """The fields on offer now: the registry plus the workspace's custom fields."""

    def __init__(self) -> None:
        options = [
            FieldOption(name, str(FIELD_LABELS.get(name, name)), _group_of(name), spec)
            for name, spec in FIELDS.items()
        ]
        for key, definition in sorted(load_definitions().items()):
            spec = custom_field_spec(f"custom.{key}")
            if spec is not None:
                options.append(FieldOption(spec.name, definition.label, "custom", spec))
        self.fields = {option.name: option for option in options}

    def groups(self) -> list[tuple[str, list[FieldOption]]]:
        """``(group label, fields)`` in the order the select shows them."""
        return [
            (str(label), [o for o in self.fields.values() if o.group == key])
            for key, label in GROUP_LABELS.items()
            if any(o.group == key for o in self.fields.values())
        ]

    def spec(self, name: str) -> FieldSpec | None:
        option = self.fields.get(name)
        return option.spec if option else None


def ops_for(spec: FieldSpec) -> list[tuple[str, str]]:
    """The operators this field takes, labelled, in a stable reading order."""
    allowed = OPS_BY_KIND[spec.kind] | spec.extra_ops
    labels = {**OP_LABELS}
    if spec.kind == FieldKind.DATE:
        labels.update(DATE_OP_LABELS)
    if spec.kind == FieldKind.LIST:
        labels.update(LIST_OP_LABELS)
    return [(op, str(labels[op])) for op in OP_ORDER if op in allowed]


def default_op(spec: FieldSpec) -> str:
    return DEFAULT_OP.get(spec.kind, "eq")


def widget_for(spec: FieldSpec, op: str) -> str:
    """The value input a condition needs: none, days, list, enum, bool, number, date, text;
    ``between`` doubles number and date into ``number_range`` and ``date_range``."""
    if op in ("is_set", "is_not_set"):
        return "none"
    if op in ("within_days", "before_days", "within_next_days"):
        return "days"
    if op in ("in", "not_in"):
        return "list"
    if spec.kind in (FieldKind.NUMBER, FieldKind.ACTIVITY):
        base = "number"
    elif spec.kind == FieldKind.DATE:
        base = "date"
    elif spec.kind == FieldKind.BOOL:
        return "bool"
    elif spec.kind == FieldKind.ENUM and op in ("eq", "neq"):
        return "enum"
    else:
        return "text"
    return f"{base}_range" if op == "between" else base


def choices_for(spec: FieldSpec) -> list[tuple[str, str]]:
    """An enum's values with their translated labels (custom choices as the user wrote them)."""
    labels = _CHOICE_LABELS.get(spec.name, {})
    ordered = [v for v in labels if v in spec.choices] + sorted(spec.choices - labels.keys())
    return [(value, str(labels.get(value, value))) for value in ordered]
