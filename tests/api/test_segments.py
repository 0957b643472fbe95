"""/api/v1/segments against the real database: CRUD, live counts, rule errors, list members."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from rapport.accounts.models import AuditEntry
from rapport.crm.models import Contact, Order
from rapport.segments.facts import refresh_facts
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from rapport.segments.services import ensure_builtin_segments
from tests.api.conftest import ApiClient
from tests.factories import make_contact, make_order, make_product

pytestmark = pytest.mark.django_db

URL = "/api/v1/segments"
CHINA = {"field": "country", "op": "eq", "value": "CN"}


def _list(name: str = "Regulars") -> Segment:
    return Segment.objects.create(name=name, kind=SegmentKind.STATIC)


def _buyers() -> tuple[Contact, Contact, Contact]:
    """Two contacts in China (one with two orders), one in France with one order."""
    product = make_product()
    twice, never = make_contact(), make_contact()
    once = make_contact(country="FR")
    make_order(twice, [product])
    make_order(twice, [product])
    make_order(once, [product])
    refresh_facts([twice.pk, once.pk])
    return twice, never, once


# --- create, read, update, delete ---------------------------------------------------------


def test_create_read_update_delete(api: ApiClient) -> None:
    _buyers()
    created = api.post_json(URL, {"name": "China", "rules": CHINA, "description": "CN"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "rules"
    assert (body["rules"], body["builtin"], body["description"]) == (CHINA, False, "CN")
    assert set(body) == {
        "id", "name", "description", "kind", "rules", "builtin", "created_at", "updated_at"
    }  # fmt: skip
    assert AuditEntry.objects.get(action="segment.save").actor == api.user

    detail = api.get(f"{URL}/{body['id']}").json()
    assert (detail["name"], detail["count"]) == ("China", 2)

    patched = api.patch_json(f"{URL}/{body['id']}", {"description": "People in China"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["rules"]) == ("China", CHINA)
    assert patched.json()["description"] == "People in China"

    buyers = {"field": "orders.count", "op": "gte", "value": 1}
    patched = api.patch_json(f"{URL}/{body['id']}", {"name": "Buyers", "rules": buyers})
    assert patched.json()["name"] == "Buyers"
    assert api.get(f"{URL}/{body['id']}").json()["count"] == 2

    assert api.delete(f"{URL}/{body['id']}").status_code == 204
    assert api.get(f"{URL}/{body['id']}").status_code == 404


def test_static_list_is_created_without_rules_and_counts_its_members(api: ApiClient) -> None:
    response = api.post_json(URL, {"name": "Press", "kind": "static"})
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["rules"]) == ("static", {})
    segment = Segment.objects.get(name="Press")
    SegmentMember.objects.create(segment=segment, contact=make_contact())
    assert api.get(f"{URL}/{segment.pk}").json()["count"] == 1


def test_list_pages_newest_first(api: ApiClient) -> None:
    ensure_builtin_segments()
    mine = [_list(f"List {n}") for n in range(3)]
    total = Segment.objects.count()
    first = api.get(f"{URL}?limit=2").json()
    assert [s["id"] for s in first["items"]] == [mine[2].pk, mine[1].pk]
    seen = [s["id"] for s in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get(f"{URL}?limit=2&cursor={cursor}").json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == total
    assert any(s["builtin"] for s in api.get(f"{URL}?limit=500").json()["items"])


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "No rules"}, 400, "rules"),
        ({"name": "", "rules": CHINA}, 422, "name"),
        ({"name": "Odd", "kind": "smart", "rules": CHINA}, 422, "kind"),
        ({"name": "Typo", "rule": CHINA}, 422, "rule"),
        ({"name": "Bad", "rules": {"all": [CHINA, {"field": "country", "op": "gt"}]}}, 400,
         "all[1].op"),
    ],
)  # fmt: skip
def test_create_refuses_bad_input_naming_the_field(
    api: ApiClient, payload: dict[str, Any], status: int, field: str
) -> None:
    response = api.post_json(URL, payload)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert not Segment.objects.filter(builtin=False).exists()


def test_names_are_unique(api: ApiClient) -> None:
    _list("Press")
    response = api.post_json(URL, {"name": "Press", "kind": "static"})
    assert response.status_code == 409
    assert "exists already" in response.json()["error"]


def test_patch_refuses_null(api: ApiClient) -> None:
    segment = _list()
    response = api.patch_json(f"{URL}/{segment.pk}", {"name": None})
    assert response.status_code == 422
    assert response.json()["field"] == "name"


def test_builtin_segments_keep_their_rules_and_cannot_be_deleted(api: ApiClient) -> None:
    ensure_builtin_segments()
    vip = Segment.objects.get(name="VIP", builtin=True)

    response = api.delete(f"{URL}/{vip.pk}")
    assert response.status_code == 409
    assert "built in" in response.json()["error"]
    assert Segment.objects.filter(pk=vip.pk).exists()

    response = api.patch_json(f"{URL}/{vip.pk}", {"rules": CHINA})
    assert response.status_code == 409
    described = api.patch_json(f"{URL}/{vip.pk}", {"description": "Our best customers"})
    assert described.status_code == 200, described.content
    assert described.json()["rules"] == vip.rules


def test_unknown_segment_is_404(api: ApiClient) -> None:
    for response in (
        api.get(f"{URL}/999999"),
        api.patch_json(f"{URL}/999999", {"description": "x"}),
        api.delete(f"{URL}/999999"),
        api.get(f"{URL}/999999/members"),
        api.post_json(f"{URL}/999999/members", {"contact_ids": [1]}),
    ):
        assert response.status_code == 404, response.content


# --- counting a rule ----------------------------------------------------------------------


def test_count_matches_contact_and_purchase_rules(api: ApiClient) -> None:
    _buyers()
    rules = {"all": [CHINA, {"field": "orders.count", "op": "gte", "value": 2}]}
    response = api.post_json(f"{URL}/count", {"rules": rules})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    assert response.json()["ms"] >= 0
    assert api.post_json(f"{URL}/count", {"rules": CHINA}).json()["count"] == 2
    never = {"not": {"field": "orders.count", "op": "gte", "value": 1}}
    assert api.post_json(f"{URL}/count", {"rules": never}).json()["count"] == 1


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"all": [CHINA, {"field": "nope", "op": "eq", "value": 1}]}, "all[1].field"),
        ({"all": [CHINA, {"any": [CHINA, {"field": "orders.count", "op": "gte",
                                          "value": "two"}]}]}, "all[1].any[1].value"),
        ({"all": []}, "all"),
        ({}, "field"),
        ({"field": "orders.count", "op": "gte", "value": 1, "window": {"days": 3}},
         "window.days"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_400_naming_its_place(
    api: ApiClient, rules: dict[str, Any], field: str
) -> None:
    response = api.post_json(f"{URL}/count", {"rules": rules})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field
    assert body["error"].startswith(f"{field}:")


def test_rules_must_be_an_object(api: ApiClient) -> None:
    response = api.post_json(f"{URL}/count", {"rules": "country = 'CN'"})
    assert response.status_code == 422
    assert response.json()["field"] == "rules"


NASTY = [
    "x' OR 1=1 --",
    '"; DROP TABLE crm_contact; --',
    "'); DELETE FROM segments_segment; --",
    "%",
    "_",
    "\\",
]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("field", ["country", "city", "email", "tags", "orders.product"])
def test_hostile_values_are_data_not_sql(api: ApiClient, field: str, value: str) -> None:
    _buyers()
    contacts, segments, orders = (
        Contact.objects.count(),
        Segment.objects.count(),
        Order.objects.count(),
    )
    op = "contains" if field in ("tags", "orders.product") else "eq"
    for rule in (
        {"field": field, "op": op, "value": value},
        {"field": field, "op": "in", "value": [value, "CN"]} if field == "tags" else None,
        {"field": field, "op": "starts_with", "value": value} if op == "eq" else None,
    ):
        if rule is None:
            continue
        response = api.post_json(f"{URL}/count", {"rules": rule})
        assert response.status_code == 200, (rule, response.content)
        assert response.json()["count"] == 0, rule
    counts = (Contact.objects.count(), Segment.objects.count(), Order.objects.count())
    assert counts == (contacts, segments, orders)
    assert "crm_contact" in connection.introspection.table_names()


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"field": "custom.__class__", "op": "eq", "value": 1}, "field"),
        ({"field": "orders.count) OR (1=1", "op": "gte", "value": 0}, "field"),
        ({"field": "x' OR 1=1 --", "op": "eq", "value": "a"}, "field"),
        ({"field": "email__contains", "op": "eq", "value": "a"}, "field"),
        ({"field": "country", "op": "eq; DROP TABLE crm_contact", "value": "CN"}, "op"),
        ({"field": "country", "op": "raw", "value": "1=1"}, "op"),
        ({"field": "orders.count", "op": "gte", "value": "0 OR 1=1"}, "value"),
        ({"field": "orders.count", "op": "gte", "value": 1,
          "window": {"within_days": "1; DROP TABLE crm_order"}}, "window.within_days"),
        ({"field": "country", "op": "eq", "value": "CN", "sql": "1=1"}, "sql"),
    ],
)  # fmt: skip
def test_hostile_names_are_refused_cleanly(
    api: ApiClient, rule: dict[str, Any], field: str
) -> None:
    _buyers()
    contacts, orders = Contact.objects.count(), Order.objects.count()
    response = api.post_json(f"{URL}/count", {"rules": rule})
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert (Contact.objects.count(), Order.objects.count()) == (contacts, orders)


def test_hostile_rule_saved_and_read_back_is_still_data(api: ApiClient) -> None:
    _buyers()
    rule = {"field": "city", "op": "eq", "value": "x' OR 1=1 --"}
    created = api.post_json(URL, {"name": "'; DROP TABLE segments_segment; --", "rules": rule})
    assert created.status_code == 201, created.content
    segment_id = created.json()["id"]
    assert api.get(f"{URL}/{segment_id}").json()["count"] == 0
    assert api.get(f"{URL}/{segment_id}/members").json()["items"] == []
    assert Contact.objects.count() == 3


# --- members --------------------------------------------------------------------------------


def test_add_list_and_remove_members(api: ApiClient) -> None:
    segment = _list()
    a, b, c = make_contact(email="a@example.org"), make_contact(), make_contact()

    added = api.post_json(f"{URL}/{segment.pk}/members", {"emails": [" A@Example.org "]})
    assert (added.status_code, added.json()) == (200, {"added": 1})
    added = api.post_json(f"{URL}/{segment.pk}/members", {"contact_ids": [a.pk, b.pk, c.pk]})
    assert added.json() == {"added": 2}  # a was a member already

    page = api.get(f"{URL}/{segment.pk}/members?limit=2").json()
    assert [m["id"] for m in page["items"]] == [c.pk, b.pk]
    assert page["items"][0]["email"] == c.email
    rest = api.get(f"{URL}/{segment.pk}/members?cursor={page['next_cursor']}").json()
    assert ([m["id"] for m in rest["items"]], rest["next_cursor"]) == ([a.pk], None)

    removed = api.delete(
        f"{URL}/{segment.pk}/members",
        {"contact_ids": [a.pk, 999999]},
        content_type="application/json",
    )
    assert (removed.status_code, removed.json()) == (200, {"removed": 1})
    assert set(segment.members.values_list("contact_id", flat=True)) == {b.pk, c.pk}
    assert Contact.objects.filter(pk=a.pk).exists()


def test_members_of_a_rule_segment_are_the_matching_contacts(api: ApiClient) -> None:
    twice, never, _ = _buyers()
    segment = Segment.objects.create(name="China", rules=CHINA)
    items = api.get(f"{URL}/{segment.pk}/members").json()["items"]
    assert [m["id"] for m in items] == [never.pk, twice.pk]
    response = api.post_json(f"{URL}/{segment.pk}/members", {"contact_ids": [twice.pk]})
    assert response.status_code == 400
    assert "defined by rules" in response.json()["error"]


def test_unknown_email_or_id_is_404_and_adds_no_one(api: ApiClient) -> None:
    segment = _list()
    known = make_contact()
    response = api.post_json(
        f"{URL}/{segment.pk}/members", {"emails": [known.email, "ghost@example.org"]}
    )
    assert response.status_code == 404
    assert "ghost@example.org" in response.json()["error"]
    response = api.post_json(f"{URL}/{segment.pk}/members", {"contact_ids": [known.pk, 999999]})
    assert response.status_code == 404
    assert not segment.members.exists()


@pytest.mark.parametrize("body", [{}, {"emails": [], "contact_ids": []}, {"ids": [1]}])
def test_adding_needs_emails_or_ids(api: ApiClient, body: dict[str, Any]) -> None:
    response = api.post_json(f"{URL}/{_list().pk}/members", body)
    assert response.status_code == 422, response.content


def test_member_page_query_count_does_not_grow(
    api: ApiClient, django_assert_num_queries: Any
) -> None:
    segment = _list()
    api.get(URL)  # the token's first use also records last_used_at
    for _ in range(8):
        SegmentMember.objects.create(segment=segment, contact=make_contact())
    # The token with its user, the segment, then the page with the companies joined.
    with django_assert_num_queries(3):
        assert len(api.get(f"{URL}/{segment.pk}/members?limit=3").json()["items"]) == 3
    with django_assert_num_queries(3):
        assert len(api.get(f"{URL}/{segment.pk}/members?limit=8").json()["items"]) == 8


@pytest.mark.usefixtures("compiled_catalogues")
def test_rule_errors_are_english_unless_the_client_asks_for_chinese(api: ApiClient) -> None:
    bad = {"name": "Spenders", "rules": {"field": "orders.total", "op": "gt", "value": "lots"}}
    answer = api.post_json(URL, bad)
    assert answer.status_code == 400
    assert answer.json() == {"error": "value: 'lots' is not a number", "field": "value"}

    asked = api.post(
        URL, bad, content_type="application/json", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert asked.status_code == 400
    assert asked.json() == {"error": "value: 'lots' 不是数字", "field": "value"}
    assert not Segment.objects.filter(name="Spenders").exists()
