"""Rule errors speak the person's language: the same place, what is wrong in Chinese under
zh-hans, and the exact English texts integrators rely on otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from rapport.segments.rules import RuleError, parse_rules
from tests.translation import assert_translated

CITY = {"field": "city", "op": "eq", "value": "x"}
ORDERS = {"field": "orders.count", "op": "gte", "value": 1}


def _deep() -> dict[str, Any]:
    rule: dict[str, Any] = dict(CITY)
    for _ in range(12):
        rule = {"not": rule}
    return rule


# (rule, path, the exact English message): one case for every check in rules.py.
CASES: list[tuple[Any, str, str]] = [
    (_deep(), "not." * 8 + "not", "groups are nested more than 8 deep"),
    ([], "", "must be an object: a condition or an all/any/not group"),
    ({"all": [CITY], "field": "city"}, "", "is both a condition and a group; split it"),
    ({"all": [CITY], "any": []}, "", "has all and any; a group takes exactly one"),
    ({"all": [], "any": [], "not": {}}, "", "has all and any and not; a group takes exactly one"),
    ({"all": [CITY], "zz": 1}, "", "unexpected key 'zz' beside 'all'"),
    ({"all": []}, "all", "must be a non-empty list of conditions or groups"),
    (
        {"any": [dict(CITY, value=str(i)) for i in range(150)]},
        "any[100]",
        "a segment holds at most 100 conditions",
    ),
    ({**CITY, "sql": "1=1"}, "sql", "is not part of a condition"),
    ({"op": "eq", "value": "x"}, "field", "is missing or not text"),
    (
        {"all": [CITY, {"field": "nope", "op": "eq", "value": 1}]},
        "all[1].field",
        "unknown field 'nope'",
    ),
    (
        {"any": [{"not": {"field": "country", "op": "gte", "value": "CN"}}]},
        "any[0].not.op",
        "'gte' does not apply to country (use one of: contains, eq, in, is_not_set, is_set, "
        "neq, not_in, starts_with)",
    ),
    ({**CITY, "window": {"within_days": 3}}, "window", "city takes no time window"),
    (
        {**ORDERS, "window": []},
        "window",
        'must be {"within_days": N} or {"since": date, "until": date}',
    ),
    ({**ORDERS, "window": {"days": 3}}, "window.days", "is not part of a window"),
    (
        {**ORDERS, "window": {"within_days": 3, "since": "2026-01-01"}},
        "window",
        "within_days cannot be combined with since/until",
    ),
    (
        {**ORDERS, "window": {"since": "2026-02-01", "until": "2026-01-01"}},
        "window",
        "since is after until",
    ),
    (
        {"field": "birthday", "op": "within_next_days", "value": -1},
        "value",
        "must be a whole number of days from 0 to 36500",
    ),
    (
        {"field": "created_at", "op": "gt", "value": "yesterday"},
        "value",
        "'yesterday' is not a date (YYYY-MM-DD)",
    ),
    (
        {"all": [CITY, {"any": [{**ORDERS, "value": "x"}]}]},
        "all[1].any[0].value",
        "'x' is not a number",
    ),
    ({**ORDERS, "value": 1e20}, "value", "1e+20 is not a usable number"),
    (
        {"field": "personalisation", "op": "eq", "value": "yes"},
        "value",
        "must be true or false",
    ),
    ({**CITY, "value": ""}, "value", "must be text of 1 to 200 characters"),
    (
        {"field": "status", "op": "eq", "value": "happy"},
        "value",
        "'happy' is not one of: bounced, complained, not_subscribed, pending, subscribed, "
        "unsubscribed",
    ),
    (
        {"field": "country", "op": "in", "value": []},
        "value",
        "must be a list of 1 to 1000 values",
    ),
    (
        {"field": "orders.total", "op": "between", "value": [1]},
        "value",
        "must be a list of two values [low, high]",
    ),
    (
        {"field": "orders.total", "op": "between", "value": [9, 1]},
        "value",
        "the low end is above the high end",
    ),
]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("compiled_catalogues")]


def _error(rule: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rules(rule)
    return caught.value


@pytest.mark.parametrize(("rule", "path", "english"), CASES)
def test_the_same_bad_rule_in_english_and_in_chinese(rule: Any, path: str, english: str) -> None:
    error = _error(rule)
    assert (error.path, error.message) == (path, f"{path or 'rule'}: {english}")
    assert error.field == (path or "rules")

    with translation.override("zh-hans"):
        chinese = _error(rule)
    assert (chinese.path, chinese.field) == (path, error.field)
    assert_translated(error.message, chinese.message, path or "rule")


def test_a_chinese_message_reads_as_chinese() -> None:
    bad = {"all": [CITY, {"any": [{**ORDERS, "value": "x"}]}]}
    with translation.override("zh-hans"):
        assert _error(bad).message == "all[1].any[0].value: 'x' 不是数字"
        unknown = _error({"field": "shoe_size", "op": "eq", "value": 1}).message
    assert unknown == "field: 未知字段 'shoe_size'"
    assert _error(bad).message == "all[1].any[0].value: 'x' is not a number"  # back in English
