"""A plain-Python reading of the rule language, to check the SQL compiler against.

Written from the language's definition, not from the compiler: each condition is evaluated
on one contact's data held in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rapport.crm.models import Contact, CustomField, Event, Order, OrderLine
from rapport.segments.models import ContactFacts, LifecycleSettings


@dataclass
class Person:
    contact: Contact
    orders: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)
    lines: list[tuple[dt.datetime, str, str]] = field(default_factory=list)  # when, sku, category
    events: list[tuple[str, dt.datetime]] = field(default_factory=list)
    facts: ContactFacts | None = None


def snapshot() -> dict[int, Person]:
    people = {c.pk: Person(c) for c in Contact.objects.select_related("company")}
    for order in Order.objects.all():
        people[order.contact_id].orders.append((order.placed_at, order.total))
    for line in OrderLine.objects.select_related("order", "product"):
        category = line.product.category if line.product else None
        people[line.order.contact_id].lines.append((line.order.placed_at, line.sku, category))
    for event in Event.objects.all():
        people[event.contact_id].events.append((event.type, event.occurred_at))
    for facts in ContactFacts.objects.all():
        people[facts.contact_id].facts = facts
    return people


def day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


class Oracle:
    def __init__(self, people: dict[int, Person], now: dt.datetime) -> None:
        self.people = people
        self.now = now
        self.settings = LifecycleSettings.current()
        self.custom_types = dict(CustomField.objects.values_list("key", "type"))

    def matching(self, rule: dict[str, Any]) -> set[int]:
        return {pk for pk, person in self.people.items() if self.holds(rule, person)}

    def holds(self, rule: dict[str, Any], p: Person) -> bool:
        if "all" in rule:
            return all(self.holds(r, p) for r in rule["all"])
        if "any" in rule:
            return any(self.holds(r, p) for r in rule["any"])
        if "not" in rule:
            return not self.holds(rule["not"], p)
        return self.condition(rule, p)

    # -- helpers ---------------------------------------------------------------------

    def in_window(self, moment: dt.datetime, window: dict[str, Any] | None) -> bool:
        if not window:
            return True
        if "within_days" in window:
            return moment >= self.now - dt.timedelta(days=window["within_days"])
        if "since" in window and day(moment) < dt.date.fromisoformat(window["since"]):
            return False
        return not ("until" in window and day(moment) > dt.date.fromisoformat(window["until"]))

    def date_op(self, value: dt.date | None, op: str, arg: Any, moment: Any = None) -> bool:
        if op == "is_set":
            return value is not None
        if op == "is_not_set":
            return value is None
        if value is None:
            return False
        if op in ("within_days", "before_days"):
            limit = self.now - dt.timedelta(days=arg)
            point = moment if moment is not None else value
            if isinstance(point, dt.datetime):
                return point >= limit if op == "within_days" else point < limit
            return point >= limit.date() if op == "within_days" else point < limit.date()
        if op == "between":
            low, high = (dt.date.fromisoformat(a) for a in arg)
            return low <= value <= high
        target = dt.date.fromisoformat(arg)
        return {
            "eq": value == target,
            "gt": value > target,
            "gte": value >= target,
            "lt": value < target,
            "lte": value <= target,
        }[op]

    @staticmethod
    def number_op(value: Any, op: str, arg: Any) -> bool:
        if op == "between":
            return Decimal(str(arg[0])) <= value <= Decimal(str(arg[1]))
        target = Decimal(str(arg))
        return {
            "eq": value == target,
            "neq": value != target,
            "gt": value > target,
            "gte": value >= target,
            "lt": value < target,
            "lte": value <= target,
        }[op]

    @staticmethod
    def text_op(value: str | None, op: str, arg: Any) -> bool:
        text = value or ""
        if op == "is_set":
            return text != ""
        if op == "is_not_set":
            return text == ""
        if op == "eq":
            return text == arg
        if op == "neq":
            return text != arg
        if op == "in":
            return text in arg
        if op == "not_in":
            return text not in arg
        if op == "contains":
            return arg.lower() in text.lower()
        return text.lower().startswith(arg.lower())  # starts_with

    def stage(self, p: Person) -> str | None:
        if p.facts is None:
            return "potential" if p.contact.status == "subscribed" else None
        if p.facts.lapses_at < self.now:
            return "lapsed"
        first = min(t for t, _ in p.orders)
        if first >= self.now - dt.timedelta(days=self.settings.new_days):
            return "new"
        return "returning" if len(p.orders) >= 2 else "one_time"

    def birthday_soon(self, birthday: dt.date | None, days: int) -> bool:
        if birthday is None:
            return False
        if days >= 365:
            return True
        today = self.now.date()
        for offset in range(days + 1):
            candidate = today + dt.timedelta(days=offset)
            if (candidate.month, candidate.day) == (birthday.month, birthday.day):
                return True
            leap = candidate.year % 4 == 0 and (candidate.year % 100 or candidate.year % 400 == 0)
            if (
                (birthday.month, birthday.day) == (2, 29)
                and (candidate.month, candidate.day) == (2, 28)
                and not leap
            ):
                return True
        return False

    # -- conditions ------------------------------------------------------------------

    def condition(self, rule: dict[str, Any], p: Person) -> bool:
        name, op, arg = rule["field"], rule["op"], rule.get("value")
        window = rule.get("window")
        c = p.contact
        if name in ("interests", "tags"):
            items = getattr(c, name)
            if op == "contains":
                return arg in items
            if op == "in":
                return any(a in items for a in arg)
            if op == "not_in":
                return not any(a in items for a in arg)
            return bool(items) == (op == "is_set")
        if name == "created_at":
            return self.date_op(day(c.created_at), op, arg, moment=c.created_at)
        if name == "birthday":
            if op == "within_next_days":
                return self.birthday_soon(c.birthday, arg)
            return self.date_op(c.birthday, op, arg)
        if name == "company":
            return self.text_op(c.company.name if c.company else "", op, arg)
        if name.startswith("custom."):
            return self.custom(c.custom, name[7:], op, arg)
        if name in ("orders.count", "orders.total"):
            chosen = [amount for when, amount in p.orders if self.in_window(when, window)]
            value = Decimal(len(chosen)) if name == "orders.count" else sum(chosen, Decimal(0))
            if op == "is_set":
                return bool(chosen)
            if op == "is_not_set":
                return not chosen
            return self.number_op(value, op, arg)
        if name in ("orders.first_at", "orders.last_at"):
            if not p.orders:
                return op == "is_not_set"
            moments = [t for t, _ in p.orders]
            moment = min(moments) if name == "orders.first_at" else max(moments)
            return self.date_op(day(moment), op, arg, moment=moment)
        if name in ("orders.product", "orders.category"):
            bought = {
                sku if name == "orders.product" else category
                for when, sku, category in p.lines
                if self.in_window(when, window)
            }
            if op == "contains":
                return arg in bought
            if op == "in":
                return bool(bought & set(arg))
            if op == "not_in":
                return not bought & set(arg)
            return bool(bought) == (op == "is_set")
        if name.startswith("email."):
            return self.email(name, op, arg, window, p)
        if name == "lifecycle":
            stage = self.stage(p)
            if op == "eq":
                return stage == arg
            if op == "neq":
                return stage != arg
            if op == "in":
                return stage in arg
            if op == "not_in":
                return stage not in arg
            return (stage is not None) == (op == "is_set")
        if name.startswith("rfm."):
            if p.facts is None:
                return op == "is_not_set"
            if op in ("is_set", "is_not_set"):
                return op == "is_set"
            value = getattr(p.facts, f"{name[4]}_score")
            return self.number_op(Decimal(value), op, arg)
        if name == "personalisation":
            return c.personalisation == arg if op == "eq" else op == "is_set"
        # The language compares emails in lower case and country codes in upper case.
        normalise = {"email": str.lower, "country": str.upper}.get(name)
        if normalise is not None and arg is not None:
            arg = [normalise(a) for a in arg] if isinstance(arg, list) else normalise(arg)
        return self.text_op(getattr(c, name), op, arg)

    def email(self, name: str, op: str, arg: Any, window: Any, p: Person) -> bool:
        kind = {
            "email.received": "sent",
            "email.opened": "opened",
            "email.clicked": "clicked",
            "email.last_open_at": "opened",
        }[name]
        moments = [t for k, t in p.events if k == kind]
        if name == "email.last_open_at":
            latest = max(moments) if moments else None
            return self.date_op(day(latest) if latest else None, op, arg, moment=latest)
        if op == "within_days":
            return any(t >= self.now - dt.timedelta(days=arg) for t in moments)
        if op == "before_days":
            return bool(moments) and all(t < self.now - dt.timedelta(days=arg) for t in moments)
        counted = [t for t in moments if self.in_window(t, window)]
        if op in ("is_set", "is_not_set"):
            return bool(counted) == (op == "is_set")
        return self.number_op(Decimal(len(counted)), op, arg)

    def custom(self, values: dict[str, Any], key: str, op: str, arg: Any) -> bool:
        present = values.get(key) is not None
        if op == "is_set":
            return present
        if op == "is_not_set":
            return not present
        if op in ("neq", "not_in"):
            positive = {"neq": "eq", "not_in": "in"}[op]
            return not self.custom(values, key, positive, arg)
        if not present:
            return False
        value = values[key]
        kind = self.custom_types[key]
        if kind == "boolean":
            return bool(value == arg)
        if kind == "number":
            return self.number_op(Decimal(str(value)), op, arg)
        if kind == "date":
            if op == "in":
                return value in arg
            return self.date_op(dt.date.fromisoformat(value), op, arg)
        return self.text_op(value, op, arg)
