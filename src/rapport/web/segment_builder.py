"""The segment builder's form state and the rule JSON it stands for, both ways.

The builder is a plain form: a top-level group (``g0``) of conditions plus nested groups
(``g1``, ``g2``…), each with its own all/any and, for nested groups, a "not". A condition's
inputs are named ``g<group>r<row>-<part>`` (field, op, value, value2, days, widget). Rows
without a field are drafts and are left out of the rule; a row whose value is still blank
makes the rule ``Incomplete`` rather than wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from rapport.segments.fields import FieldKind
from rapport.web.segment_fields import Catalogue, choices_for, default_op, ops_for, widget_for

MAX_GROUPS = 20
MAX_ROWS = 50
_LIST_SPLIT = re.compile(r"[,，;；\n]+")


@dataclass
class Row:
    field: str = ""
    op: str = ""
    value: str = ""
    value2: str = ""
    days: str = ""
    widget: str = ""


@dataclass
class Group:
    match: str = "all"
    negate: bool = False
    rows: list[Row] = field(default_factory=list)


@dataclass
class Builder:
    """``groups[0]`` is the top level; the others are nested in it."""

    groups: list[Group] = field(default_factory=lambda: [Group(rows=[Row()])])


class Incomplete(Exception):
    """A condition still waits for its value; ``place`` is its (group, row)."""

    def __init__(self, place: tuple[int, int]) -> None:
        super().__init__(place)
        self.place = place


def _count(data: QueryDict, name: str, limit: int) -> int:
    raw = data.get(name, "")
    return min(int(raw), limit) if raw.isdigit() else 0


def from_form(data: QueryDict, catalogue: Catalogue) -> Builder:
    """Read the builder's inputs, then make every row consistent with its field: an operator
    the field does not take falls back to its default, and a value typed for another kind of
    input (the ``widget`` it was rendered with) is cleared."""
    groups = []
    for g in range(max(_count(data, "groups", MAX_GROUPS), 1)):
        prefix = f"g{g}"
        group = Group(
            match="any" if data.get(f"{prefix}-match") == "any" else "all",
            negate=g > 0 and data.get(f"{prefix}-not") == "on",
        )
        for r in range(_count(data, f"{prefix}-rows", MAX_ROWS)):
            part = f"{prefix}r{r}-"
            row = Row(
                **{name: data.get(part + name, "") for name in ("value", "value2", "days")},
                field=data.get(part + "field", "").strip(),
                op=data.get(part + "op", "").strip(),
                widget=data.get(part + "widget", ""),
            )
            _settle(row, catalogue)
            group.rows.append(row)
        groups.append(group)
    return Builder(groups)


def _settle(row: Row, catalogue: Catalogue) -> None:
    spec = catalogue.spec(row.field)
    if spec is None:
        row.field = row.op = row.value = row.value2 = row.days = row.widget = ""
        return
    if row.op not in dict(ops_for(spec)):
        row.op = default_op(spec)
    widget = widget_for(spec, row.op)
    if row.widget and widget != row.widget:
        row.value = row.value2 = ""
    row.widget = widget
    if not spec.windowed:
        row.days = ""


def apply_action(builder: Builder, action: str) -> None:
    """Add or remove a row or group: ``add_row:G``, ``remove_row:G:R``, ``add_group``,
    ``remove_group:G``. Unknown or stale actions change nothing."""
    verb, _sep, rest = action.partition(":")
    numbers = [int(n) for n in rest.split(":") if n.isdigit()]
    groups = builder.groups
    if verb == "add_group" and len(groups) < MAX_GROUPS:
        groups.append(Group(rows=[Row()]))
    elif verb == "add_row" and numbers and numbers[0] < len(groups):
        if len(groups[numbers[0]].rows) < MAX_ROWS:
            groups[numbers[0]].rows.append(Row())
    elif verb == "remove_row" and len(numbers) == 2 and numbers[0] < len(groups):
        rows = groups[numbers[0]].rows
        if numbers[1] < len(rows):
            del rows[numbers[1]]
    elif verb == "remove_group" and numbers and 0 < numbers[0] < len(groups):
        del groups[numbers[0]]


@dataclass(frozen=True)
class Built:
    """The rule (None when no condition has a field yet) and where each row went in it."""

    rules: dict[str, Any] | None
    places: dict[str, tuple[int, int]]  # rule path of a condition -> (group, row)

    def place_of(self, path: str) -> tuple[int, int] | None:
        """The row a ``RuleError`` path points into, if it points into one."""
        for prefix, place in sorted(self.places.items(), key=lambda item: -len(item[0])):
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                return place
        return None


def to_rules(builder: Builder, catalogue: Catalogue) -> Built:
    """The rule JSON of the builder; raises ``Incomplete`` for a row without its value."""
    top = builder.groups[0]
    key = top.match
    items: list[dict[str, Any]] = []
    places: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(top.rows):
        if row.field:
            places[f"{key}[{len(items)}]"] = (0, r)
            items.append(_condition(row, catalogue, (0, r)))
    for g, group in enumerate(builder.groups[1:], start=1):
        inner_key = group.match
        path = f"{key}[{len(items)}]" + (".not" if group.negate else "")
        conditions: list[dict[str, Any]] = []
        for r, row in enumerate(group.rows):
            if row.field:
                places[f"{path}.{inner_key}[{len(conditions)}]"] = (g, r)
                conditions.append(_condition(row, catalogue, (g, r)))
        if conditions:
            node: dict[str, Any] = {inner_key: conditions}
            items.append({"not": node} if group.negate else node)
    return Built({key: items} if items else None, places)


def _condition(row: Row, catalogue: Catalogue, place: tuple[int, int]) -> dict[str, Any]:
    spec = catalogue.spec(row.field)
    assert spec is not None  # _settle cleared unknown fields
    condition: dict[str, Any] = {"field": row.field, "op": row.op}
    widget = row.widget
    if widget != "none":
        if not row.value.strip() or (widget.endswith("_range") and not row.value2.strip()):
            raise Incomplete(place)
        if widget == "list":
            item_kind = "number" if spec.kind in (FieldKind.NUMBER, FieldKind.ACTIVITY) else ""
            parts = [p.strip() for p in _LIST_SPLIT.split(row.value) if p.strip()]
            condition["value"] = [_typed(p, item_kind) for p in parts]
        elif widget.endswith("_range"):
            base = widget.removesuffix("_range")
            condition["value"] = [_typed(row.value, base), _typed(row.value2, base)]
        else:
            condition["value"] = _typed(row.value, widget)
    if row.days.strip():
        condition["window"] = {"within_days": _typed(row.days, "days")}
    return condition


def _typed(text: str, widget: str) -> Any:
    """Text from an input as the JSON type its widget stands for; text that does not parse
    is passed on as it is, for ``parse_rules`` to name the problem."""
    text = text.strip()
    if widget == "bool":
        return {"true": True, "false": False}.get(text, text)
    if widget in ("number", "days"):
        try:
            return int(text)
        except ValueError:
            pass
        if widget == "number":
            try:
                return float(text)
            except ValueError:
                pass
    return text


def from_rules(rules: Any, catalogue: Catalogue) -> Builder | None:
    """The builder showing a saved rule, or None when the rule is beyond what it can show
    (deeper nesting, date-range windows, unknown fields): then the page edits JSON."""
    if not rules:
        return Builder()
    if isinstance(rules, dict) and "field" in rules:
        rules = {"all": [rules]}
    top_key = _group_key(rules)
    if top_key is None:
        return None
    builder = Builder([Group(match=top_key)])
    for item in rules[top_key]:
        if isinstance(item, dict) and "field" in item:
            row = _row(item, catalogue)
            if row is None:
                return None
            builder.groups[0].rows.append(row)
            continue
        group = _nested(item, catalogue)
        if group is None:
            return None
        builder.groups.append(group)
    return builder


def _group_key(node: Any) -> str | None:
    if isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        if key in ("all", "any") and isinstance(node[key], list):
            return str(key)
    return None


def _nested(item: Any, catalogue: Catalogue) -> Group | None:
    negate = isinstance(item, dict) and set(item) == {"not"}
    inner = item["not"] if negate else item
    if isinstance(inner, dict) and "field" in inner:
        inner = {"all": [inner]}
    key = _group_key(inner)
    if key is None:
        return None
    rows = [_row(cond, catalogue) for cond in inner[key]]
    if not rows or None in rows:
        return None
    return Group(match=key, negate=negate, rows=[r for r in rows if r is not None])


def _row(cond: Any, catalogue: Catalogue) -> Row | None:
    if not isinstance(cond, dict) or not isinstance(cond.get("field"), str):
        return None
    spec = catalogue.spec(cond["field"])
    window = cond.get("window")
    if spec is None or (window is not None and set(window) != {"within_days"}):
        return None
    row = Row(field=cond["field"], op=str(cond.get("op", "")))
    if window is not None:
        row.days = _text(window["within_days"])
    value = cond.get("value")
    if isinstance(value, list) and row.op == "between" and len(value) == 2:
        row.value, row.value2 = _text(value[0]), _text(value[1])
    elif isinstance(value, list):
        row.value = ", ".join(_text(v) for v in value)
    elif value is not None:
        row.value = _text(value)
    _settle(row, catalogue)
    return row if row.op == cond.get("op") else None


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def describe_place(place: tuple[int, int] | None) -> str:
    """Where a condition sits, in words: "Condition 2" or "Group 1, condition 3"."""
    if place is None:
        return _("The rule")
    group, row = place
    if group == 0:
        return _("Condition %(row)s") % {"row": row + 1}
    return _("Group %(group)s, condition %(row)s") % {"group": group, "row": row + 1}


@dataclass(frozen=True)
class RowView:
    """One condition as the template draws it."""

    prefix: str
    group: int
    index: int
    row: Row
    ops: list[tuple[str, str]]
    choices: list[tuple[str, str]]
    windowed: bool
    flagged: bool


@dataclass(frozen=True)
class GroupView:
    index: int
    group: Group
    rows: list[RowView]


def view(
    builder: Builder, catalogue: Catalogue, flagged: tuple[int, int] | None = None
) -> list[GroupView]:
    """The builder's groups and rows with what each row's inputs offer; ``flagged`` is the
    row a problem points at."""
    groups = []
    for g, group in enumerate(builder.groups):
        rows = []
        for r, row in enumerate(group.rows):
            spec = catalogue.spec(row.field)
            rows.append(
                RowView(
                    prefix=f"g{g}r{r}",
                    group=g,
                    index=r,
                    row=row,
                    ops=ops_for(spec) if spec else [],
                    choices=choices_for(spec) if spec else [],
                    windowed=bool(spec and spec.windowed),
                    flagged=flagged == (g, r),
                )
            )
        groups.append(GroupView(g, group, rows))
    return groups
