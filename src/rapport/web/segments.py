"""Read side of the segment pages: the live preview of a rule, and a static list's members."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from rapport.crm.models import Contact
from rapport.crm.queries import keyset_page
from rapport.segments.models import Segment
from rapport.segments.queries import (
    Advice,
    Count,
    Overlap,
    advise,
    count_rules,
    overlaps,
    rule_queryset,
    sample,
    segment_queryset,
)
from rapport.segments.rules import RuleError
from rapport.web.segment_builder import (
    Builder,
    Built,
    Incomplete,
    describe_place,
    from_form,
    to_rules,
)
from rapport.web.segment_fields import Catalogue

MEMBERS_SHOWN = 50


@dataclass(frozen=True)
class RuleInput:
    """What the segment form's rule part holds: builder rows, or JSON for rules the builder
    cannot show. ``rules`` is None while nothing is chosen; ``problem`` says what is missing
    or wrong, ``error`` is set for a rule that ``parse_rules`` would refuse."""

    mode: str
    builder: Builder | None
    built: Built | None
    rules: Any
    json_text: str = ""
    incomplete: tuple[int, int] | None = None
    problem: str = ""


def read_rule_input(data: QueryDict, catalogue: Catalogue) -> RuleInput:
    if data.get("mode") == "json":
        text = data.get("rules_json", "")
        try:
            rules = json.loads(text) if text.strip() else None
        except ValueError as error:
            return RuleInput("json", None, None, None, text, problem=str(error))
        return RuleInput("json", None, None, rules, text)
    builder = from_form(data, catalogue)
    try:
        built = to_rules(builder, catalogue)
    except Incomplete as missing:
        return RuleInput("builder", builder, None, None, incomplete=missing.place)
    return RuleInput("builder", builder, built, built.rules)


@dataclass(frozen=True)
class Preview:
    """What the builder shows beside the form; exactly one of the first three is set."""

    count: Count | None = None
    hint: str = ""  # nothing to count yet, and why
    error: RuleError | None = None
    place: str = ""
    detail: str = ""
    sample: list[Contact] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)


def load_preview(rule_input: RuleInput, *, exclude_id: int | None) -> Preview:
    """Count the rule, show a sample, its overlap with saved segments and the advice; a rule
    error comes back as a value with its place, never as an exception."""
    if rule_input.incomplete is not None:
        where = describe_place(rule_input.incomplete)
        return Preview(hint=_("%(place)s needs a value.") % {"place": where})
    if rule_input.problem:
        return Preview(hint=_("This is not valid JSON: %(error)s") % {"error": rule_input.problem})
    if rule_input.rules is None:
        return Preview(hint=_("Add a condition to see how many contacts match."))
    try:
        count = count_rules(rule_input.rules)
    except RuleError as error:
        place = rule_input.built.place_of(error.path) if rule_input.built else None
        detail = error.message.removeprefix(f"{error.path}: ")
        return Preview(error=error, place=describe_place(place), detail=detail)
    queryset = rule_queryset(rule_input.rules)
    shared = [o for o in overlaps(queryset, exclude_id=exclude_id) if o.shared]
    shared.sort(key=lambda o: -o.shared)
    return Preview(
        count=count,
        sample=sample(queryset),
        overlaps=shared,
        advice=advise(count.count, shared),
    )


@dataclass(frozen=True)
class Members:
    contacts: list[Contact]
    next_cursor: int | None


def list_members(segment: Segment, *, after: int | None) -> Members:
    """A static list's members, newest contact first, by keyset pages."""
    page = keyset_page(
        segment_queryset(segment).select_related("company"), after=after, limit=MEMBERS_SHOWN
    )
    return Members(contacts=page.items, next_cursor=page.next_cursor)
