"""The SQL compiler agrees with a plain-Python reading of every rule, on generated data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.segments.queries import count_rules, rule_queryset
from tests.segments import dataset
from tests.segments.oracle import Oracle, snapshot

pytestmark = pytest.mark.django_db

DAYS = st.sampled_from([0, 1, 7, 30, 90, 180, 365, 400])
DATES = st.sampled_from(["2026-01-01", "2026-06-15", "2026-11-30", "2027-03-09", "2027-03-10"])


def _between(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(values, min_size=2, max_size=2).map(sorted)


def text_conditions(field: str, values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(values)
    return st.one_of(
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["eq", "neq", "contains", "starts_with"]),
            value,
        ),
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(value, min_size=1, max_size=3),
        ),
        st.builds(lambda op: {"field": field, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
    )


def enum_conditions(field: str, values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(values)
    return st.one_of(
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["eq", "neq"]),
            value,
        ),
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(value, min_size=1, max_size=3),
        ),
        st.builds(lambda op: {"field": field, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
    )


def list_conditions(
    field: str, values: list[str], windowed: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(values)
    base = st.one_of(
        st.builds(lambda v: {"field": field, "op": "contains", "value": v}, value),
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(value, min_size=1, max_size=3),
        ),
        st.builds(lambda op: {"field": field, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
    )
    return _maybe_windowed(base) if windowed else base


def number_conditions(
    field: str, values: list[Any], windowed: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(values)
    base = st.one_of(
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]),
            value,
        ),
        st.builds(lambda v: {"field": field, "op": "between", "value": v}, _between(value)),
        st.builds(lambda op: {"field": field, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
    )
    return _maybe_windowed(base) if windowed else base


def date_conditions(
    field: str, extra: st.SearchStrategy[dict[str, Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    options = [
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["eq", "gt", "gte", "lt", "lte"]),
            DATES,
        ),
        st.builds(lambda v: {"field": field, "op": "between", "value": v}, _between(DATES)),
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["within_days", "before_days"]),
            DAYS,
        ),
        st.builds(lambda op: {"field": field, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
    ]
    if extra is not None:
        options.append(extra)
    return st.one_of(*options)


def activity_conditions(field: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        number_conditions(field, [0, 1, 2, 2.5, 3], windowed=True),
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["within_days", "before_days"]),
            DAYS,
        ),
    )


def _maybe_windowed(base: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    windows = st.one_of(
        st.builds(lambda d: {"within_days": d}, DAYS),
        st.builds(lambda a: {"since": a[0], "until": a[1]}, _between(DATES)),
        st.builds(lambda a: {"since": a}, DATES),
    )
    return st.one_of(base, st.builds(lambda c, w: {**c, "window": w}, base, windows))


CONDITIONS = st.one_of(
    text_conditions("email", ["p1@example.com", "p2@example.com", "P3@EXAMPLE.COM"]),
    text_conditions("city", [*dataset.CITIES, "shang", "上"]),
    text_conditions("country", ["CN", "gb", "FR"]),
    text_conditions("company", ["Acme", "acm"]),
    text_conditions("given_name", ["Wei", "伟", "an"]),
    enum_conditions("audience", ["b2b", "b2c", "nonprofit"]),
    enum_conditions("status", ["subscribed", "unsubscribed", "bounced", "pending"]),
    list_conditions("interests", dataset.INTERESTS),
    list_conditions("tags", dataset.TAGS),
    date_conditions("created_at"),
    date_conditions(
        "birthday",
        st.builds(
            lambda d: {"field": "birthday", "op": "within_next_days", "value": d},
            st.sampled_from([0, 1, 2, 7, 30, 300, 365]),
        ),
    ),
    number_conditions("orders.count", [0, 1, 2, 2.5, 3], windowed=True),
    number_conditions("orders.total", [0, 10, 25, 99.5, 100, 250], windowed=True),
    date_conditions("orders.first_at"),
    date_conditions("orders.last_at"),
    list_conditions("orders.product", [s for s, _ in dataset.SKUS], windowed=True),
    list_conditions("orders.category", [c for _, c in dataset.SKUS], windowed=True),
    activity_conditions("email.opened"),
    activity_conditions("email.clicked"),
    activity_conditions("email.received"),
    date_conditions("email.last_open_at"),
    enum_conditions("lifecycle", ["potential", "new", "one_time", "returning", "lapsed"]),
    number_conditions("rfm.r", [1, 2, 3, 4, 5]),
    number_conditions("rfm.m", [1, 3, 5]),
    enum_conditions("custom.tier", ["gold", "silver"]),
    number_conditions("custom.score", [1, 2, 2.5, 7]),
    date_conditions("custom.joined"),
    text_conditions("custom.note", ["call back", "vip", "新"]),
    st.builds(lambda v: {"field": "custom.vip", "op": "eq", "value": v}, st.booleans()),
    st.builds(
        lambda op: {"field": "custom.vip", "op": op}, st.sampled_from(["is_set", "is_not_set"])
    ),
)

RULES = st.recursive(
    CONDITIONS,
    lambda inner: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
    ),
    max_leaves=6,
)


def test_every_rule_matches_exactly_the_contacts_the_oracle_finds():
    dataset.build()
    oracle = Oracle(snapshot(), dataset.NOW)
    checked: list[int] = []

    @settings(
        max_examples=600,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(RULES)
    def check(rule: dict[str, Any]) -> None:
        found = set(rule_queryset(rule, now=dataset.NOW).values_list("pk", flat=True))
        expected = oracle.matching(rule)
        assert found == expected, rule
        assert count_rules(rule, now=dataset.NOW).count == len(expected), rule
        checked.append(len(expected))

    check()
    assert len(checked) >= 300  # hypothesis really ran many rules
    # The generated rules were not all trivial: many matched some but not all contacts.
    assert sum(1 for n in checked if 0 < n < len(oracle.people)) > len(checked) // 3


TRICKY = [
    {
        "any": [
            {"field": "company", "op": "is_set"},
            {"field": "company", "op": "neq", "value": "Acme"},
        ]
    },
    {"not": {"field": "company", "op": "eq", "value": "Acme"}},
    {"field": "orders.total", "op": "lt", "value": 0},
    {"not": {"field": "orders.count", "op": "gte", "value": 0}},
    {"field": "orders.count", "op": "eq", "value": 0},
    {"field": "orders.count", "op": "eq", "value": 2.5},  # Django would cast 2.5 to 2
    {"field": "orders.count", "op": "gte", "value": 1.5},
    {"field": "orders.count", "op": "between", "value": [1.5, 2.5]},
    {"field": "rfm.r", "op": "eq", "value": 3.5},
    {"field": "rfm.f", "op": "neq", "value": 2.5},
    {"field": "rfm.m", "op": "between", "value": [2.2, 2.8]},
    {"field": "rfm.r", "op": "lte", "value": 2.5},
    {"field": "email.clicked", "op": "within_days", "value": 30},
    {"field": "email.last_open_at", "op": "is_not_set"},
    {"field": "orders.count", "op": "lt", "value": 2, "window": {"within_days": 90}},
    {"field": "email.opened", "op": "before_days", "value": 30},
    {"not": {"field": "email.opened", "op": "within_days", "value": 30}},
    {"field": "email.last_open_at", "op": "between", "value": ["2026-12-01", "2027-03-09"]},
    {"field": "custom.score", "op": "neq", "value": 2},
    {"field": "custom.joined", "op": "within_days", "value": 90},
    {"field": "birthday", "op": "within_next_days", "value": 2},
    {"field": "birthday", "op": "within_next_days", "value": 364},
    {"field": "lifecycle", "op": "not_in", "value": ["lapsed", "potential"]},
    {
        "all": [
            {"field": "orders.count", "op": "gte", "value": 2},
            {"field": "orders.last_at", "op": "within_days", "value": 90},
            {
                "any": [
                    {"field": "interests", "op": "contains", "value": "photo"},
                    {"field": "country", "op": "in", "value": ["CN", "SG"]},
                ]
            },
            {"not": {"field": "email.opened", "op": "within_days", "value": 30}},
        ]
    },
]


@pytest.mark.parametrize("rule", TRICKY, ids=range(len(TRICKY)))
def test_tricky_rules(rule):
    dataset.build()
    oracle = Oracle(snapshot(), dataset.NOW)
    expected = oracle.matching(rule)
    assert set(rule_queryset(rule, now=dataset.NOW).values_list("pk", flat=True)) == expected
    assert count_rules(rule, now=dataset.NOW).count == len(expected)
