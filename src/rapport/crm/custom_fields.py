"""User-defined, typed contact fields: their definitions and how a value is checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rapport.crm.fields import FieldError, parse_bool, parse_date, parse_decimal
from rapport.crm.models import CustomField, CustomFieldType


@dataclass(frozen=True)
class CustomFieldDef:
    key: str
    label: str
    type: str
    choices: tuple[str, ...]


def load_definitions() -> dict[str, CustomFieldDef]:
    return {
        f.key: CustomFieldDef(f.key, f.label, f.type, tuple(f.choices))
        for f in CustomField.objects.all()
    }


def value_parser(definition: CustomFieldDef) -> Callable[[str], Any]:
    """A parser from cell text to the JSON value stored in ``Contact.custom``."""
    kind = definition.type
    if kind == CustomFieldType.NUMBER:

        def number(raw: str) -> int | float:
            value = parse_decimal(raw, what="a number")
            return int(value) if value == value.to_integral_value() else float(value)

        return number
    if kind == CustomFieldType.DATE:

        def date(raw: str) -> str | None:
            parsed = parse_date(raw)
            return parsed[0].isoformat() if parsed else None

        return date
    if kind == CustomFieldType.BOOLEAN:
        return parse_bool
    if kind == CustomFieldType.CHOICE:
        allowed = {c.lower(): c for c in definition.choices}

        def choice(raw: str) -> str:
            value = allowed.get(raw.strip().lower())
            if value is None:
                raise FieldError(f"{raw.strip()!r} is not one of: {', '.join(definition.choices)}")
            return value

        return choice

    def text(raw: str) -> str:
        value = raw.strip()
        if len(value) > 500:
            raise FieldError("is longer than 500 characters")
        return value

    return text


def check_custom_values(
    values: dict[str, Any], definitions: dict[str, CustomFieldDef]
) -> dict[str, Any]:
    """Validate custom values given as JSON (API, UI); unknown keys are an error."""
    checked: dict[str, Any] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none defined"
            raise FieldError(f"custom field {key!r} does not exist (fields: {known})")
        if value is None or value == "":
            checked[key] = None
            continue
        raw = str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, Decimal | int | float) and definition.type == CustomFieldType.TEXT:
            raw = str(value)
        try:
            checked[key] = value_parser(definition)(raw)
        except FieldError as error:
            raise FieldError(f"custom field {key!r}: {error}") from None
    return checked
