"""A journey's definition: its JSON shape, checked, and the step tree it describes.

```json
{"trigger": {"type": "date", "field": "birthday"},
 "reentry": "yearly", "cap": {"messages": 3, "days": 7},
 "steps": [
   {"type": "wait", "window": {"start": "09:00", "end": "11:00"}},
   {"type": "email", "template": "Birthday (English)"},
   {"type": "condition", "rules": {"field": "orders.count", "op": "gte", "value": 1},
    "yes": [{"type": "points", "points": 100, "reason": "birthday"}], "no": []},
   {"type": "goal", "event": "ordered"}]}
```

Every step gets a stable ``id`` ("s1", "s2", …) when first saved, kept across edits, so an
entry waiting at a step stays there when steps are added before it. Errors name the place
(``steps[2].yes[0].points``) and what is wrong; the place is JSON, what is wrong is
translated into the active language when the error is raised (English in the CLI and, unless
Accept-Language asks otherwise, in the API).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from rapport.automation.calendar import holiday_keys
from rapport.errors import InvalidInput
from rapport.segments.rules import parse_rules

TRIGGERS = {
    "contact_created": "a contact is created",
    "subscribed": "a contact subscribes (confirmed)",
    "first_order": "a contact's first order",
    "order": "an order (of given products or categories, or any)",
    "event": "an event posted to the API (POST /api/v1/events)",
    "segment_entered": "a contact enters a segment",
    "segment_left": "a contact leaves a segment",
    "date": "a date field's anniversary (birthday…) in the contact's timezone",
    "holiday": "a holiday of a country's calendar",
    "inactivity": "no order for N days, or the lapsed stage",
}
STEP_TYPES = (
    "wait", "condition", "split", "email", "tag", "field", "points", "notify", "goal", "exit",
)  # fmt: skip
MARKETING_STEPS = frozenset({"email"})
GOAL_EVENTS = ("ordered", "clicked")
LEAP_DAY_RULES = ("feb28", "mar1")
MAX_STEPS = 200
_ID = re.compile(r"s(\d+)")


def _fail(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"{path}: {message}", field=path)


@dataclass(frozen=True, slots=True)
class Branch:
    steps: tuple[Step, ...]
    weight: int = 0  # random splits
    rules: Any = None  # rule splits; None is the "everyone else" branch


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    type: str
    params: dict[str, Any]
    branches: tuple[Branch, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.id} {self.type}"


@dataclass(frozen=True, slots=True)
class Trigger:
    type: str
    params: dict[str, Any]

    @property
    def audience(self) -> int | str | None:
        """The segment that narrows who may enter (any trigger), if one is set."""
        value = self.params.get("audience")
        return value if isinstance(value, int | str) and value != "" else None


@dataclass(slots=True)
class Plan:
    """The step tree with its navigation: what follows each step, and each branch's start."""

    trigger: Trigger
    steps: tuple[Step, ...]
    reentry: str
    cap_messages: int | None = None
    cap_days: int | None = None
    by_id: dict[str, Step] = field(default_factory=dict)
    following: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index(self.steps, None)

    def _index(self, steps: tuple[Step, ...], after: str | None) -> None:
        for position, step in enumerate(steps):
            self.by_id[step.id] = step
            nxt = steps[position + 1].id if position + 1 < len(steps) else after
            self.following[step.id] = nxt
            for branch in step.branches:
                self._index(branch.steps, nxt)

    @property
    def first(self) -> str | None:
        return self.steps[0].id if self.steps else None

    def next_after(self, step_id: str) -> str | None:
        return self.following.get(step_id)

    def branch_start(self, step: Step, index: int) -> str | None:
        branch = step.branches[index]
        return branch.steps[0].id if branch.steps else self.next_after(step.id)

    def walk(self) -> Iterator[tuple[int, Step]]:
        """Every step in order with its depth, for pages and status."""

        def visit(steps: tuple[Step, ...], depth: int) -> Iterator[tuple[int, Step]]:
            for step in steps:
                yield depth, step
                for branch in step.branches:
                    yield from visit(branch.steps, depth + 1)

        return visit(self.steps, 0)

    @property
    def goal_events(self) -> dict[str, str]:
        """Goal step id -> the event that meets it."""
        return {s.id: str(s.params["event"]) for s in self.by_id.values() if s.type == "goal"}


def parse_definition(data: Any) -> Plan:
    """Check a definition (with ids filled in by ``assign_ids``) and build its plan."""
    if not isinstance(data, dict):
        raise _fail("definition", _("must be an object with trigger and steps"))
    unknown = set(data) - {"trigger", "steps", "reentry", "cap", "name", "description"}
    if unknown:
        raise _fail(sorted(unknown)[0], _("is not part of a journey definition"))
    trigger = _trigger(data.get("trigger"))
    default_reentry = "yearly" if trigger.type in ("date", "holiday") else "once"
    reentry = data.get("reentry") or default_reentry
    if reentry not in ("once", "yearly", "always"):
        raise _fail(
            "reentry", _("%(value)s is not once, yearly or always") % {"value": repr(reentry)}
        )
    cap_messages = cap_days = None
    if data.get("cap"):
        cap = data["cap"]
        if not isinstance(cap, dict):
            raise _fail("cap", _('must be {"messages": N, "days": D}'))
        cap_messages = _positive(cap.get("messages"), "cap.messages")
        cap_days = _positive(cap.get("days"), "cap.days")
    steps_data = data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise _fail("steps", _("a journey needs at least one step"))
    seen: set[str] = set()
    steps = _steps(steps_data, "steps", seen)
    if len(seen) > MAX_STEPS:
        raise _fail("steps", _("at most %(count)s steps") % {"count": MAX_STEPS})
    return Plan(trigger, steps, reentry, cap_messages, cap_days)


def assign_ids(data: Any) -> Any:
    """Give every step without an ``id`` the next free "sN"; existing ids are kept."""
    if not isinstance(data, dict):
        return data
    ids = [s["id"] for s in _raw_steps(data.get("steps")) if isinstance(s.get("id"), str)]
    used = [int(m.group(1)) for m in map(_ID.fullmatch, ids) if m]
    counter = max(used, default=0)
    for step in _raw_steps(data.get("steps")):
        if not step.get("id"):
            counter += 1
            step["id"] = f"s{counter}"
    return data


def _raw_steps(steps: Any) -> Iterator[dict[str, Any]]:
    """Every step object of an unchecked definition, in order (a step before its branches)."""
    if not isinstance(steps, list):
        return
    for step in steps:
        if not isinstance(step, dict):
            continue
        yield step
        for key in ("yes", "no"):
            yield from _raw_steps(step.get(key))
        for branch in step.get("branches") or []:
            if isinstance(branch, dict):
                yield from _raw_steps(branch.get("steps"))


def _positive(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(
            path, _("%(value)s is not a whole number of at least 1") % {"value": repr(value)}
        )
    return value


def _number(value: Any, path: str, *, allow_negative: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, _("%(value)s is not a whole number") % {"value": repr(value)})
    if value < 0 and not allow_negative:
        raise _fail(path, _("%(value)s is negative") % {"value": value})
    return value


def _time(value: Any, path: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise _fail(
            path, _("%(value)s is not a time like 09:30") % {"value": repr(value)}
        ) from None


def _words(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, _("must be a list of words"))
    return [v.strip() for v in value]


def _rules(value: Any, path: str) -> Any:
    try:
        parse_rules(value)
    except InvalidInput as error:
        raise _fail(path, error.message) from None
    return value


def _date_field(value: Any, path: str) -> str:
    name = str(value or "")
    if name != "birthday" and not re.fullmatch(r"custom\.[a-z0-9_-]+", name):
        raise _fail(
            path,
            _("%(value)s is not a date field (birthday or custom.<key>)") % {"value": repr(name)},
        )
    return name


def _trigger(data: Any) -> Trigger:
    if not isinstance(data, dict) or data.get("type") not in TRIGGERS:
        raise _fail(
            "trigger.type", _("must be one of %(choices)s") % {"choices": ", ".join(TRIGGERS)}
        )
    kind = str(data["type"])
    params = {k: v for k, v in data.items() if k != "type"}
    path = "trigger"
    if kind == "order":
        # Neither products nor categories: any order.
        _words(params.get("products", []), f"{path}.products")
        _words(params.get("categories", []), f"{path}.categories")
    elif kind == "event" and not str(params.get("name") or "").strip():
        raise _fail(f"{path}.name", _("the event's name, e.g. webinar_attended"))
    elif kind in ("segment_entered", "segment_left") and params.get("segment") in (None, ""):
        raise _fail(f"{path}.segment", _("the segment (id or name)"))
    elif kind == "date":
        _date_field(params.get("field", "birthday"), f"{path}.field")
        _number(params.get("offset_days", 0), f"{path}.offset_days", allow_negative=True)
        if params.get("leap_day", "feb28") not in LEAP_DAY_RULES:
            raise _fail(f"{path}.leap_day", _("feb28 or mar1 (when 29 February is celebrated)"))
    elif kind == "holiday":
        country = str(params.get("country", "CN")).upper()
        key = str(params.get("holiday") or "")
        if key not in holiday_keys(country):
            raise _fail(
                f"{path}.holiday",
                _("%(value)s is not a holiday of %(country)s; known: %(known)s")
                % {
                    "value": repr(key),
                    "country": country,
                    "known": ", ".join(holiday_keys(country)),
                },
            )
        _number(params.get("days_before", 0), f"{path}.days_before")
    elif kind == "inactivity":
        if params.get("stage") not in (None, "lapsed"):
            raise _fail(f"{path}.stage", _("only the lapsed stage"))
        if params.get("stage") is None:
            _positive(params.get("days"), f"{path}.days")
    return Trigger(kind, params)


def _steps(data: Any, path: str, seen: set[str]) -> tuple[Step, ...]:
    if not isinstance(data, list):
        raise _fail(path, _("must be a list of steps"))
    return tuple(_step(item, f"{path}[{n}]", seen) for n, item in enumerate(data))


def _step(data: Any, path: str, seen: set[str]) -> Step:
    if not isinstance(data, dict) or data.get("type") not in STEP_TYPES:
        raise _fail(
            f"{path}.type", _("must be one of %(choices)s") % {"choices": ", ".join(STEP_TYPES)}
        )
    step_id = str(data.get("id") or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", step_id):
        raise _fail(f"{path}.id", _("%(value)s is not a step id") % {"value": repr(step_id)})
    if step_id in seen:
        raise _fail(f"{path}.id", _("%(value)s is used twice") % {"value": repr(step_id)})
    seen.add(step_id)
    kind = str(data["type"])
    params = {k: v for k, v in data.items() if k not in ("id", "type", "yes", "no", "branches")}
    branches: tuple[Branch, ...] = ()
    if kind == "wait":
        _wait(params, path)
    elif kind == "condition":
        _rules(params.get("rules"), f"{path}.rules")
        branches = (
            Branch(_steps(data.get("yes", []), f"{path}.yes", seen), rules=params["rules"]),
            Branch(_steps(data.get("no", []), f"{path}.no", seen)),
        )
    elif kind == "split":
        branches = _split(data, path, seen)
    elif kind == "email":
        if data.get("template") in (None, ""):
            raise _fail(f"{path}.template", _("the template (id or name) to send"))
    elif kind == "tag":
        add = _words(params.get("add", []), f"{path}.add")
        remove = _words(params.get("remove", []), f"{path}.remove")
        if not add and not remove:
            raise _fail(f"{path}.add", _("tags to add or remove"))
    elif kind == "field":
        name = str(params.get("field") or "")
        if name in ("", "email", "status") or "value" not in params:
            raise _fail(f"{path}.field", _("a contact field (not email or status) and a value"))
    elif kind == "points":
        if _number(params.get("points"), f"{path}.points", allow_negative=True) == 0:
            raise _fail(f"{path}.points", _("0 points changes nothing"))
    elif kind == "notify":
        if params.get("channel", "app") not in ("app", "email"):
            raise _fail(f"{path}.channel", _("app or email"))
        _words(params.get("to", ["role:admin"]), f"{path}.to")
        if not str(params.get("message") or "").strip():
            raise _fail(f"{path}.message", _("what to tell the staff"))
    elif kind == "goal" and params.get("event") not in GOAL_EVENTS:
        raise _fail(f"{path}.event", _("ordered or clicked"))
    return Step(step_id, kind, params, branches)


def _wait(params: dict[str, Any], path: str) -> None:
    durations = [k for k in ("minutes", "hours", "days") if k in params]
    forms = bool(durations) + ("until" in params) + ("window" in params)
    if forms != 1:
        raise _fail(
            path, _("a wait is a duration (minutes/hours/days), until a date field, or a window")
        )
    for key in durations:
        _number(params[key], f"{path}.{key}")
    if "until" in params:
        _date_field(params["until"], f"{path}.until")
        _number(params.get("offset_days", 0), f"{path}.offset_days", allow_negative=True)
        _time(params.get("at", "09:00"), f"{path}.at")
    if "window" in params:
        window = params["window"]
        if not isinstance(window, dict):
            raise _fail(f"{path}.window", _('must be {"start": "09:00", "end": "11:00"}'))
        start = _time(window.get("start"), f"{path}.window.start")
        end = _time(window.get("end"), f"{path}.window.end")
        if end <= start:
            raise _fail(f"{path}.window.end", _("must be after the start"))
        days = window.get("days", list(range(7)))
        if not isinstance(days, list) or not days or not all(d in range(7) for d in days):
            raise _fail(f"{path}.window.days", _("weekdays 0 (Monday) to 6"))


def _split(data: dict[str, Any], path: str, seen: set[str]) -> tuple[Branch, ...]:
    raw = data.get("branches")
    if not isinstance(raw, list) or len(raw) < 2:
        raise _fail(f"{path}.branches", _("a split needs at least two branches"))
    mode = data.get("mode", "random")
    if mode not in ("random", "rules"):
        raise _fail(f"{path}.mode", _("random or rules"))
    branches = []
    for n, item in enumerate(raw):
        where = f"{path}.branches[{n}]"
        if not isinstance(item, dict):
            raise _fail(where, _('must be {"steps": [...]} with a weight or rules'))
        steps = _steps(item.get("steps", []), f"{where}.steps", seen)
        if mode == "random":
            branches.append(Branch(steps, weight=_positive(item.get("weight"), f"{where}.weight")))
        else:
            rules = item.get("rules")
            if rules is None and n != len(raw) - 1:
                raise _fail(f"{where}.rules", _("only the last branch may be without rules"))
            branches.append(Branch(steps, rules=_rules(rules, f"{where}.rules") if rules else None))
    return tuple(branches)
