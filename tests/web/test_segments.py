"""The segment pages: list with lazy counts, the builder and its live preview, static lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.roles import Role
from rapport.segments import facts
from rapport.segments.builtin import BUILTIN_SEGMENTS
from rapport.segments.models import Segment, SegmentKind
from rapport.segments.services import ensure_builtin_segments, save_segment
from rapport.web.segment_builder import from_rules, to_rules
from rapport.web.segment_fields import Catalogue
from tests.factories import make_contact, make_order, make_product

ClientFor = Callable[..., Client]


def _row(field: str, op: str, value: str = "", *, at: str = "g0r0", **more: str) -> dict[str, str]:
    data = {f"{at}-field": field, f"{at}-op": op, f"{at}-value": value}
    data.update({f"{at}-{key}": item for key, item in more.items()})
    return data


def _form(*rows: dict[str, str], match: str = "all", **extra: str) -> dict[str, str]:
    """Builder inputs for conditions in the top-level group."""
    data = {"groups": "1", "g0-match": match, "g0-rows": str(len(rows))}
    for row in rows:
        data.update(row)
    data.update(extra)
    return data


@pytest.fixture
def countries(db: None) -> None:
    for _ in range(3):
        make_contact(country="CN")
    for _ in range(2):
        make_contact(country="GB")


@pytest.mark.parametrize("role", [Role.OWNER, Role.MARKETER, Role.SUPPORT, Role.VIEWER])
def test_pages_render_for_every_role_and_only_editors_see_save(
    client_for: ClientFor, role: str
) -> None:
    ensure_builtin_segments()
    vip = Segment.objects.get(name="VIP")
    client = client_for(role)
    listing = client.get("/segments/").content.decode()
    assert "VIP" in listing and f'hx-get="/segments/{vip.pk}/count"' in listing
    new = client.get("/segments/new").content.decode()
    assert 'id="builder"' in new and "Choose a field…" in new
    builtin = client.get(f"/segments/{vip.pk}/").content.decode()
    assert "rfm.r" in builtin and "disabled" in builtin
    can_edit = role != Role.VIEWER
    assert ('id="save-segment"' in new) is can_edit
    assert ("New segment" in listing) is can_edit
    assert ('id="copy-segment"' in builtin) is can_edit
    assert 'id="save-segment"' not in builtin  # built-ins are read-only for everyone


def test_preview_counts_the_rule_with_a_sample_and_timing(
    client_for: ClientFor, countries: None
) -> None:
    client = client_for(Role.VIEWER)
    response = client.post("/segments/preview", _form(_row("country", "eq", "cn", widget="text")))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="match-count">3<' in page
    assert "counted in" in page and page.count("/contacts/") == 3
    assert "too small to be worth its own campaign" in page


def test_preview_counts_purchases_after_the_facts_are_refreshed(client_for: ClientFor) -> None:
    buyer, other = make_contact(), make_contact()
    make_contact()
    make_order(buyer, [make_product()])
    make_order(buyer, [make_product()])
    make_order(other, [make_product()])
    facts.refresh_facts([buyer.pk, other.pk])
    client = client_for(Role.MARKETER)
    two = _row("orders.count", "gte", "2", widget="number")
    page = client.post("/segments/preview", _form(two)).content.decode()
    assert 'id="match-count">1<' in page and f"/contacts/{buyer.pk}/" in page
    anyone = _row("orders.count", "gte", "1", widget="number", days="30")
    page = client.post("/segments/preview", _form(anyone)).content.decode()
    assert 'id="match-count">2<' in page


def test_a_bad_rule_shows_its_message_and_place_instead_of_a_count(
    client_for: ClientFor, countries: None
) -> None:
    client = client_for(Role.VIEWER)
    rows = (
        _row("country", "eq", "CN", widget="text"),
        _row("orders.total", "gt", "lots", at="g0r1", widget="number"),
    )
    page = client.post("/segments/preview", _form(*rows)).content.decode()
    assert 'id="match-count"' not in page
    assert (
        "Condition 2" in page
        and "all[1].value" in page
        and "&#x27;lots&#x27; is not a number" in page
    )

    bad_json = '{"any": [{"field": "shoe_size", "op": "eq", "value": 1}]}'
    page = client.post(
        "/segments/preview", {"mode": "json", "rules_json": bad_json}
    ).content.decode()
    assert "any[0].field" in page and "unknown field" in page


def test_a_row_without_its_value_is_a_hint_not_an_error(client_for: ClientFor) -> None:
    client = client_for(Role.VIEWER)
    page = client.post("/segments/preview", _form(_row("country", "eq", ""))).content.decode()
    assert "Condition 1 needs a value." in page and "alert-error" not in page
    page = client.post("/segments/preview", _form(_row("", ""))).content.decode()
    assert "Add a condition" in page


def test_nested_groups_become_not_any_in_the_rule(client_for: ClientFor, countries: None) -> None:
    client = client_for(Role.MARKETER)
    data = _form(_row("email", "contains", "example", widget="text"))
    data.update(groups="2", **{"g1-match": "any", "g1-not": "on", "g1-rows": "1"})
    data.update(_row("country", "in", "GB, DE", at="g1r0", widget="list"))
    data["name"] = "Outside the UK and Germany"
    assert client.post("/segments/new", data).status_code == 302
    segment = Segment.objects.get(name="Outside the UK and Germany")
    assert segment.rules == {
        "all": [
            {"field": "email", "op": "contains", "value": "example"},
            {"not": {"any": [{"field": "country", "op": "in", "value": ["GB", "DE"]}]}},
        ]
    }
    page = client.get(f"/segments/{segment.pk}/").content.decode()
    assert 'name="g1-not" checked' in page and 'value="GB, DE"' in page


def test_builder_adds_and_removes_rows_and_fits_operators_to_the_field(
    client_for: ClientFor,
) -> None:
    client = client_for(Role.VIEWER)
    data = _form(_row("country", "eq", "CN", widget="text"), action="add_row:0")
    page = client.post("/segments/builder", data).content.decode()
    assert 'name="g0r1-field"' in page and 'name="g0-rows" value="2"' in page

    # A number field does not take "starts_with": the operator falls back, the value clears.
    data = _form(_row("orders.count", "starts_with", "CN", widget="text"))
    page = client.post("/segments/builder", data).content.decode()
    assert '<option value="gte" selected>is at least</option>' in page
    assert 'name="g0r0-value" id="id_g0r0-value" value=""' in page
    assert 'name="g0r0-days"' in page  # purchase counts take a time window

    data = _form(_row("country", "eq", "CN", widget="text"), action="remove_row:0:0")
    page = client.post("/segments/builder", data).content.decode()
    assert 'name="g0-rows" value="0"' in page


def test_saving_creates_a_segment_and_shows_it_in_the_list(
    client_for: ClientFor, countries: None
) -> None:
    client = client_for(Role.SUPPORT)
    data = _form(_row("country", "eq", "CN", widget="text"), name="China", description="CN")
    response = client.post("/segments/new", data)
    segment = Segment.objects.get(name="China")
    assert response.status_code == 302 and response["Location"] == f"/segments/{segment.pk}/"
    assert segment.rules == {"all": [{"field": "country", "op": "eq", "value": "CN"}]}
    assert segment.created_by == client.user  # type: ignore[attr-defined]
    assert "China" in client.get("/segments/").content.decode()
    count = client.get(f"/segments/{segment.pk}/count").content.decode()
    assert ">3</span>" in count

    # Saving again with an incomplete row names the row and changes nothing.
    data = _form(_row("country", "eq", ""), name="China", segment_id=str(segment.pk))
    page = client.post(f"/segments/{segment.pk}/", data).content.decode()
    assert "Condition 1 needs a value." in page and "has-error" in page
    segment.refresh_from_db()
    assert segment.rules["all"][0]["value"] == "CN"


def test_viewers_cannot_save(client_for: ClientFor) -> None:
    client = client_for(Role.VIEWER)
    data = _form(_row("country", "eq", "CN", widget="text"), name="Sneaky")
    assert client.post("/segments/new", data).status_code == 403
    assert not Segment.objects.filter(name="Sneaky").exists()


def test_builtins_are_copied_not_changed(client_for: ClientFor) -> None:
    ensure_builtin_segments()
    vip = Segment.objects.get(name="VIP")
    client = client_for(Role.MARKETER)
    copy = client.get(f"/segments/new?copy={vip.pk}").content.decode()
    assert 'value="Copy of VIP"' in copy and 'value="rfm.m" selected' in copy
    assert client.post(f"/segments/{vip.pk}/delete").status_code == 302
    assert Segment.objects.filter(pk=vip.pk).exists()


def test_static_list_members_are_added_by_email_and_removed(client_for: ClientFor) -> None:
    client = client_for(Role.MARKETER)
    response = client.post("/segments/new?kind=static", {"name": "Trade fair"})
    assert response.status_code == 302
    segment = Segment.objects.get(name="Trade fair", kind=SegmentKind.STATIC)
    wei, anna = make_contact(email="wei@example.cn"), make_contact(email="anna@example.com")
    url = f"/segments/{segment.pk}/members"
    response = client.post(url, {"emails": "wei@example.cn,\nANNA@example.com"})
    assert response.status_code == 302
    assert set(segment.members.values_list("contact_id", flat=True)) == {wei.pk, anna.pk}
    page = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "wei@example.cn" in page and f'name="remove" value="{anna.pk}"' in page

    page = client.post(url, {"emails": "nobody@example.com"}).content.decode()
    assert "No contact with the email nobody@example.com" in page
    client.post(url, {"remove": str(anna.pk)})
    assert list(segment.members.values_list("contact_id", flat=True)) == [wei.pk]
    assert client_for(Role.VIEWER).post(url, {"remove": str(wei.pk)}).status_code == 403


def test_list_page_query_count_does_not_grow_with_segments(
    client_for: ClientFor, django_assert_num_queries: Any
) -> None:
    client = client_for(Role.VIEWER)
    client.get("/segments/")  # warm the session
    for n in range(10):
        save_segment(
            name=f"S{n}", rules={"field": "country", "op": "eq", "value": "CN"}, acting_user=None
        )
    # session, user, segments
    with django_assert_num_queries(3):
        page = client.get("/segments/").content.decode()
    assert page.count('hx-trigger="load"') == Segment.objects.count()


def test_every_builtin_round_trips_through_the_builder(db: None) -> None:
    catalogue = Catalogue()
    for _name, _description, rules in BUILTIN_SEGMENTS:
        builder = from_rules(rules, catalogue)
        assert builder is not None
        built = to_rules(builder, catalogue).rules
        expected = rules if "all" in rules else {"all": [rules]}
        assert built == expected


def test_rules_beyond_the_builder_are_edited_as_json(client_for: ClientFor) -> None:
    deep = {"all": [{"any": [{"all": [{"field": "country", "op": "eq", "value": "CN"}]}]}]}
    segment = save_segment(name="Deep", rules=deep, acting_user=None)
    client = client_for(Role.MARKETER)
    page = client.get(f"/segments/{segment.pk}/").content.decode()
    assert 'name="rules_json"' in page and 'id="builder"' not in page
    nested = _form(_row("country", "eq", "CN", widget="text"))
    nested.update(groups="2", **{"g1-match": "any", "g1-rows": "1"})
    nested.update(_row("orders.total", "gt", "x", at="g1r0", widget="number"))
    page = client.post("/segments/preview", nested).content.decode()
    assert "Group 1, condition 1" in page and "all[1].any[0].value" in page


def test_the_builder_shows_a_bad_rule_in_chinese_to_a_chinese_user(
    client_for: ClientFor, countries: None
) -> None:
    client = client_for(Role.MARKETER, language="zh-hans")
    rows = (
        _row("country", "eq", "CN", widget="text"),
        _row("orders.total", "gt", "lots", at="g0r1", widget="number"),
    )
    page = client.post("/segments/preview", _form(*rows)).content.decode()
    assert "条件 2" in page and "all[1].value" in page
    assert "&#x27;lots&#x27; 不是数字" in page and "is not a number" not in page
    # The builder's fields and operators are Chinese too.
    spent = _row("orders.total", "gt", "lots", widget="number")
    builder = client.post("/segments/builder", _form(spent)).content.decode()
    assert '<option value="orders.total" selected>消费金额</option>' in builder
    assert '<option value="gt" selected>多于</option>' in builder

    saved = client.post("/segments/new", _form(*rows, name="Big spenders"))
    page = saved.content.decode()
    assert saved.status_code == 200
    assert "all[1].value: &#x27;lots&#x27; 不是数字" in page and "is not a number" not in page
    assert not Segment.objects.filter(name="Big spenders").exists()

    bad_json = '{"any": [{"field": "shoe_size", "op": "eq", "value": 1}]}'
    data = {"mode": "json", "rules_json": bad_json, "name": "Shoes"}
    page = client.post("/segments/new", data).content.decode()
    assert "any[0].field: 未知字段 &#x27;shoe_size&#x27;" in page
    assert bad_json.replace('"', "&quot;") in page  # what was typed is kept to fix
