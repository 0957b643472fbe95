"""The rule language: JSON in, a checked tree out, or an error that names the place.

Shape::

    {"all": [cond, {"any": [cond, cond]}, {"not": cond}]}
    cond = {"field": "orders.count", "op": "gte", "value": 2,
            "window": {"within_days": 365}}      # window: purchase and email fields only

The tree holds only field names from the registry and values of the types their operators
take; the compiler turns it into ORM filters, so no part of a rule reaches SQL as text.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from rapport.errors import InvalidInput
from rapport.segments.fields import FIELDS, FieldKind, FieldSpec, custom_field_spec

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST = 1000
MAX_DAYS = 36_500


class RuleError(InvalidInput):
    """A rule that cannot be used; ``path`` is where, e.g. ``all[2].any[0].value``.

    ``message`` is translated when the error is raised, into the active language (the
    person's in the UI, English in the CLI); the path is JSON, never translated.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'rule'}: {message}", field=path or "rules")
        self.path = path


@dataclass(frozen=True)
class Window:
    within_days: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    spec: FieldSpec
    window: Window | None = None


@dataclass(frozen=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Condition | AllOf | AnyOf | Not

COMPARISONS = ("gt", "gte", "lt", "lte")
OPS_BY_KIND: dict[FieldKind, frozenset[str]] = {
    FieldKind.TEXT: frozenset(
        {"eq", "neq", "in", "not_in", "contains", "starts_with", "is_set", "is_not_set"}
    ),
    FieldKind.ENUM: frozenset({"eq", "neq", "in", "not_in", "is_set", "is_not_set"}),
    FieldKind.LIST: frozenset({"contains", "in", "not_in", "is_set", "is_not_set"}),
    FieldKind.NUMBER: frozenset({"eq", "neq", *COMPARISONS, "between", "is_set", "is_not_set"}),
    FieldKind.DATE: frozenset(
        {"eq", *COMPARISONS, "between", "within_days", "before_days", "is_set", "is_not_set"}
    ),
    FieldKind.BOOL: frozenset({"eq", "is_set", "is_not_set"}),
    FieldKind.ACTIVITY: frozenset(
        {"eq", "neq", *COMPARISONS, "between", "within_days", "before_days", "is_set", "is_not_set"}
    ),
}
VALUELESS = frozenset({"is_set", "is_not_set"})


def parse_rules(data: Any) -> Node:
    """Check a rule tree; raises ``RuleError`` naming the first problem's place."""
    counter = [0]
    return _node(data, "", 0, counter)


def _node(data: Any, path: str, depth: int, counter: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise RuleError(
            path, _("groups are nested more than %(depth)s deep") % {"depth": MAX_DEPTH}
        )
    if not isinstance(data, dict):
        raise RuleError(path, _("must be an object: a condition or an all/any/not group"))
    groups = [key for key in ("all", "any", "not") if key in data]
    if groups and "field" in data:
        raise RuleError(path, _("is both a condition and a group; split it"))
    if len(groups) > 1:
        raise RuleError(path, _several_groups(groups))
    if groups:
        key = groups[0]
        extra = set(data) - {key}
        if extra:
            raise RuleError(
                path,
                _("unexpected key %(key)s beside %(group)s")
                % {"key": repr(sorted(extra)[0]), "group": repr(key)},
            )
        inner_path = f"{path}.{key}" if path else key
        if key == "not":
            return Not(_node(data[key], inner_path, depth + 1, counter))
        items = data[key]
        if not isinstance(items, list) or not items:
            raise RuleError(inner_path, _("must be a non-empty list of conditions or groups"))
        nodes = tuple(
            _node(item, f"{inner_path}[{i}]", depth + 1, counter) for i, item in enumerate(items)
        )
        return AllOf(nodes) if key == "all" else AnyOf(nodes)
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise RuleError(
            path, _("a segment holds at most %(count)s conditions") % {"count": MAX_CONDITIONS}
        )
    return _condition(data, path)


def _several_groups(groups: list[str]) -> str:
    """Two or three group keys in one object; a sentence per count reads well in Chinese."""
    names = {f"key{n}": key for n, key in enumerate(groups, 1)}
    if len(groups) == 2:
        return _("has %(key1)s and %(key2)s; a group takes exactly one") % names
    return _("has %(key1)s and %(key2)s and %(key3)s; a group takes exactly one") % names


def _condition(data: dict[str, Any], path: str) -> Condition:
    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    extra = set(data) - {"field", "op", "value", "window"}
    if extra:
        raise RuleError(at(sorted(extra)[0]), _("is not part of a condition"))
    name = data.get("field")
    if not isinstance(name, str):
        raise RuleError(at("field"), _("is missing or not text"))
    spec = FIELDS.get(name) or custom_field_spec(name)
    if spec is None:
        raise RuleError(at("field"), _("unknown field %(field)s") % {"field": repr(name)})
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS_BY_KIND[spec.kind] | spec.extra_ops:
        allowed = ", ".join(sorted(OPS_BY_KIND[spec.kind] | spec.extra_ops))
        message = _("%(op)s does not apply to %(field)s (use one of: %(allowed)s)")
        raise RuleError(at("op"), message % {"op": repr(op), "field": name, "allowed": allowed})
    window = None
    if "window" in data:
        if not spec.windowed:
            raise RuleError(at("window"), _("%(field)s takes no time window") % {"field": name})
        window = _window(data["window"], at("window"))
    value = None if op in VALUELESS else _value(spec, op, data.get("value"), at("value"))
    return Condition(field=name, op=op, value=value, spec=spec, window=window)


def _window(data: Any, path: str) -> Window:
    if not isinstance(data, dict) or not data:
        raise RuleError(path, _('must be {"within_days": N} or {"since": date, "until": date}'))
    extra = set(data) - {"within_days", "since", "until"}
    if extra:
        raise RuleError(f"{path}.{sorted(extra)[0]}", _("is not part of a window"))
    if "within_days" in data:
        if len(data) > 1:
            raise RuleError(path, _("within_days cannot be combined with since/until"))
        return Window(within_days=_days(data["within_days"], f"{path}.within_days"))
    since = _date(data["since"], f"{path}.since") if "since" in data else None
    until = _date(data["until"], f"{path}.until") if "until" in data else None
    if since and until and since > until:
        raise RuleError(path, _("since is after until"))
    return Window(since=since, until=until)


def _days(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise RuleError(
            path, _("must be a whole number of days from 0 to %(max)s") % {"max": MAX_DAYS}
        )
    return value


def _date(value: Any, path: str) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise RuleError(path, _("%(value)s is not a date (YYYY-MM-DD)") % {"value": repr(value)})


def _number(value: Any, path: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(path, _("%(value)s is not a number") % {"value": repr(value)})
    if math.isnan(value) or abs(value) > 1e15:
        raise RuleError(path, _("%(value)s is not a usable number") % {"value": repr(value)})
    return value


def _scalar(spec: FieldSpec, value: Any, path: str) -> Any:
    kind = spec.kind
    if kind in (FieldKind.NUMBER, FieldKind.ACTIVITY) and spec.value_kind == "number":
        return _number(value, path)
    if kind in (FieldKind.DATE, FieldKind.ACTIVITY):
        return _date(value, path)
    if kind == FieldKind.BOOL:
        if not isinstance(value, bool):
            raise RuleError(path, _("must be true or false"))
        return value
    if not isinstance(value, str) or not value or len(value) > 200:
        raise RuleError(path, _("must be text of 1 to 200 characters"))
    if spec.choices and spec.normalise(value) not in spec.choices:
        choices = ", ".join(sorted(spec.choices))
        raise RuleError(
            path,
            _("%(value)s is not one of: %(choices)s") % {"value": repr(value), "choices": choices},
        )
    return spec.normalise(value)


def _value(spec: FieldSpec, op: str, value: Any, path: str) -> Any:
    if op in ("within_days", "before_days", "within_next_days"):
        return _days(value, path)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise RuleError(path, _("must be a list of 1 to %(max)s values") % {"max": MAX_LIST})
        item_spec = spec.item_spec()
        return tuple(_scalar(item_spec, item, f"{path}[{i}]") for i, item in enumerate(value))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise RuleError(path, _("must be a list of two values [low, high]"))
        low, high = (_scalar(spec, v, f"{path}[{i}]") for i, v in enumerate(value))
        if low > high:
            raise RuleError(path, _("the low end is above the high end"))
        return (low, high)
    if op in ("contains", "starts_with"):
        return _scalar(spec.item_spec(), value, path)
    return _scalar(spec, value, path)
