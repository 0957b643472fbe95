"""The rule language refuses what it cannot use, naming the place; hostile input stays data."""

from __future__ import annotations

import json

import pytest

from rapport.crm.models import Contact, CustomField
from rapport.segments.queries import count_rules, rule_queryset
from rapport.segments.rules import RuleError, parse_rules
from tests.factories import make_contact
from tests.helpers import run_cli

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "x' OR '1'='1",
    "'; DROP TABLE crm_contact; --",
    '") OR 1=1 --',
    "%' OR 1=1 --",
    "_%",
    "\\",
    "$.a') OR json_extract(custom,'$') IS NOT NULL --",
    "1; SELECT pg_sleep(5)",
]


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ([], "rule", "must be an object"),
        ({"all": []}, "all", "non-empty list"),
        (
            {
                "all": [
                    {"field": "country", "op": "eq", "value": "CN"},
                    {"field": "nope", "op": "eq", "value": 1},
                ]
            },
            "all[1].field",
            "unknown field 'nope'",
        ),
        (
            {"any": [{"not": {"field": "country", "op": "gte", "value": "CN"}}]},
            "any[0].not.op",
            "'gte' does not apply to country",
        ),
        ({"field": "orders.count", "op": "gte", "value": "two"}, "value", "not a number"),
        ({"field": "orders.count", "op": "gte", "value": True}, "value", "not a number"),
        ({"field": "birthday", "op": "within_next_days", "value": -1}, "value", "whole number"),
        ({"field": "created_at", "op": "gt", "value": "yesterday"}, "value", "not a date"),
        ({"field": "country", "op": "in", "value": []}, "value", "list of 1 to"),
        ({"field": "orders.total", "op": "between", "value": [9, 1]}, "value", "low end"),
        (
            {"field": "city", "op": "eq", "value": "x", "window": {"within_days": 3}},
            "window",
            "takes no time window",
        ),
        (
            {
                "field": "orders.count",
                "op": "gte",
                "value": 1,
                "window": {"within_days": 3, "since": "2026-01-01"},
            },
            "window",
            "cannot be combined",
        ),
        ({"field": "status", "op": "eq", "value": "happy"}, "value", "not one of"),
        ({"field": "city", "op": "eq", "value": "x", "sql": "1=1"}, "sql", "not part of"),
        ({"all": [{"field": "city", "op": "eq", "value": "x"}], "any": []}, "rule", "exactly one"),
    ],
)
def test_bad_rules_name_the_place(rule, path, message):
    with pytest.raises(RuleError) as caught:
        parse_rules(rule)
    assert caught.value.path == ("" if path == "rule" else path)
    assert message in caught.value.message


def test_deep_or_huge_trees_are_refused():
    deep: dict = {"field": "city", "op": "eq", "value": "x"}
    for _ in range(12):
        deep = {"not": deep}
    with pytest.raises(RuleError, match="nested"):
        parse_rules(deep)
    wide = {"any": [{"field": "city", "op": "eq", "value": str(i)} for i in range(150)]}
    with pytest.raises(RuleError, match="at most 100"):
        parse_rules(wide)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_values_are_only_ever_data(payload):
    make_contact(city=payload, tags=[payload.lower()[:64]])
    make_contact(city="Ordinary")
    before = Contact.objects.count()
    for rule, expected in [
        ({"field": "city", "op": "eq", "value": payload}, 1),
        ({"field": "city", "op": "contains", "value": payload}, 1),
        ({"field": "tags", "op": "contains", "value": payload.lower()[:64]}, 1),
        ({"field": "email", "op": "starts_with", "value": payload}, 0),
        ({"field": "orders.product", "op": "in", "value": [payload]}, 0),
    ]:
        assert count_rules(rule).count == expected, rule
    assert Contact.objects.count() == before


@pytest.mark.parametrize(
    "name",
    [
        "custom.__class__",
        "custom.tier') OR 1=1 --",
        "orders.count) OR (1=1",
        "__dict__",
        "email; DROP TABLE crm_contact",
        "custom.",
        "Email",
    ],
)
def test_hostile_field_names_are_unknown_fields(name):
    CustomField.objects.create(key="tier", label="Tier", type="text")
    with pytest.raises(RuleError, match="unknown field"):
        parse_rules({"field": name, "op": "eq", "value": "x"})


def test_custom_fields_are_typed_by_their_definition():
    CustomField.objects.create(key="score", label="Score", type="number")
    make_contact(custom={"score": 7})
    make_contact(custom={"score": 2})
    make_contact()
    assert rule_queryset({"field": "custom.score", "op": "gt", "value": 5}).count() == 1
    with pytest.raises(RuleError, match="not a number"):
        parse_rules({"field": "custom.score", "op": "gt", "value": "five"})


@pytest.mark.django_db(transaction=True)
def test_cli_count_prints_count_and_ms_and_exit_code_2_on_errors(tmp_path):
    make_contact(country="CN")
    make_contact(country="CN")
    make_contact(country="GB")
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"field": "country", "op": "eq", "value": "cn"}))

    done = run_cli("segment", "count", str(rules), "--json", tmp_path=tmp_path)

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["count"] == 2
    assert isinstance(payload["ms"], float)

    rules.write_text(
        json.dumps(
            {
                "all": [
                    {"field": "country", "op": "eq", "value": "CN"},
                    {"field": "zodiac", "op": "eq", "value": "rat"},
                ]
            }
        )
    )
    # The CLI speaks English whatever the shell's locale: scripts match on its messages.
    env = {"LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"}
    bad = run_cli("segment", "count", str(rules), "--json", tmp_path=tmp_path, env=env)
    assert bad.returncode == 2
    assert "all[1].field: unknown field 'zodiac'" in bad.stderr


@pytest.mark.django_db(transaction=True)
def test_cli_lists_builtins_and_exports_a_segment(tmp_path):
    listed = run_cli("segment", "list", "--json", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {item["name"] for item in json.loads(listed.stdout)}
    assert {"Potential customers", "Lapsed customers", "VIP"} <= names

    make_contact(email="prospect@example.com", status="subscribed")
    out = tmp_path / "potential.csv"
    exported = run_cli("segment", "export", "Potential customers", str(out), tmp_path=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "prospect@example.com" in out.read_text(encoding="utf-8-sig")


def test_built_in_segments_keep_their_name_kind_and_rules():
    from rapport.errors import Conflict  # noqa: PLC0415
    from rapport.segments.models import Segment  # noqa: PLC0415
    from rapport.segments.services import ensure_builtin_segments, save_segment  # noqa: PLC0415

    ensure_builtin_segments()
    vip = Segment.objects.get(name="VIP")
    for change in (
        {"name": "Big spenders", "kind": "rules", "rules": vip.rules},
        {"name": "VIP", "kind": "static", "rules": None},
        {"name": "VIP", "kind": "rules", "rules": {"field": "city", "op": "is_set"}},
    ):
        with pytest.raises(Conflict):
            save_segment(segment_id=vip.pk, acting_user=None, **change)
    saved = save_segment(
        segment_id=vip.pk,
        name="VIP",
        kind="rules",
        rules=vip.rules,
        description="Our best customers",
        acting_user=None,
    )
    assert saved.description == "Our best customers"
