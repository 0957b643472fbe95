"""/api/v1/contacts against the real database: CRUD, filters, cursor pages, query counts."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.accounts.models import AuditEntry
from rapport.crm.models import Company, Contact, ContactStatus
from tests.api.conftest import ApiClient
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts"


def test_create_normalises_like_an_import_and_audits(api: ApiClient) -> None:
    response = api.post_json(
        URL,
        {
            "email": " Li.Na@Example.ORG ",
            "given_name": "娜",
            "family_name": "李",
            "phone": "+86 138-0013-8000",
            "country": "China",
            "locale": "zh-CN",
            "honorific": "女士",
            "birthday": "3月8日",
            "company": "Acme 上海",
            "interests": ["Photo", "travel", "photo"],
            "custom": {},
            "audience": "b2b",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "li.na@example.org"
    assert body["display_name"] == "李娜"
    assert body["phone"] == "+8613800138000"
    assert body["country"] == "CN"
    assert body["honorific"] == "ms"
    assert (body["birthday"], body["birthday_year_known"]) == ("1904-03-08", False)
    assert body["company"] == "Acme 上海"
    assert body["interests"] == ["photo", "travel"]
    assert body["audience"] == "b2b"
    assert body["status"] == ContactStatus.SUBSCRIBED
    assert Contact.objects.get(pk=body["id"]).company == Company.objects.get(name="Acme 上海")
    entry = AuditEntry.objects.get(action="contact.create")
    assert (entry.actor, entry.target_id) == (api.user, str(body["id"]))


def test_output_has_every_documented_field(api: ApiClient) -> None:
    contact = make_contact()
    body = api.get(f"{URL}/{contact.pk}").json()
    assert set(body) >= {
        "id",
        "email",
        "given_name",
        "family_name",
        "display_name",
        "honorific",
        "phone",
        "birthday",
        "locale",
        "timezone",
        "country",
        "region",
        "city",
        "audience",
        "company",
        "interests",
        "tags",
        "custom",
        "status",
        "consent_source",
        "consent_at",
        "personalisation",
        "tracking",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"email": "not-an-address"}, 400, "email"),
        ({"email": "a@example.org", "phone": "call me"}, 400, "phone"),
        ({"email": "a@example.org", "timezone": "Mars/Olympus"}, 400, "timezone"),
        ({"email": "a@example.org", "emial": "typo"}, 422, "emial"),
        ({"given_name": "No Email"}, 422, "email"),
        ({"email": "a@example.org", "interests": "not a list"}, 422, "interests"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(
    api: ApiClient, payload: dict[str, Any], status: int, field: str
) -> None:
    response = api.post_json(URL, payload)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert field in response.json()["error"]
    assert not Contact.objects.exists()


def test_create_twice_is_a_conflict(api: ApiClient) -> None:
    make_contact(email="taken@example.org")
    response = api.post_json(URL, {"email": "TAKEN@example.org"})
    assert response.status_code == 409
    assert "taken@example.org" in response.json()["error"]


def test_get_missing_is_404_with_a_message(api: ApiClient) -> None:
    response = api.get(f"{URL}/999999")
    assert response.status_code == 404
    assert response.json() == {"error": "No contact with id 999999."}


def test_patch_changes_only_the_fields_sent(api: ApiClient) -> None:
    contact = make_contact(
        given_name="Wei", family_name="Zhang", city="Shanghai", tags=["vip"], custom={"size": "m"}
    )

    response = api.patch_json(
        f"{URL}/{contact.pk}", {"city": "Beijing", "birthday": None, "company": "Acme"}
    )

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.city, contact.given_name, contact.tags) == ("Beijing", "Wei", ["vip"])
    assert contact.custom == {"size": "m"}
    assert contact.company is not None and contact.company.name == "Acme"
    assert response.json()["company"] == "Acme"
    assert AuditEntry.objects.filter(action="contact.update", target_id=str(contact.pk)).exists()


def test_patch_cannot_resubscribe_someone_who_left(api: ApiClient) -> None:
    contact = make_contact(status=ContactStatus.UNSUBSCRIBED)
    response = api.patch_json(f"{URL}/{contact.pk}", {"status": "subscribed"})
    assert response.status_code == 409
    contact.refresh_from_db()
    assert contact.status == ContactStatus.UNSUBSCRIBED


def test_patch_to_another_contacts_email_is_a_conflict(api: ApiClient) -> None:
    make_contact(email="one@example.org")
    other = make_contact(email="two@example.org")
    response = api.patch_json(f"{URL}/{other.pk}", {"email": "one@example.org"})
    assert response.status_code == 409


def test_delete(api: ApiClient) -> None:
    contact = make_contact()
    response = api.delete(f"{URL}/{contact.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert api.delete(f"{URL}/{contact.pk}").status_code == 404


def _emails(api: ApiClient, query: str) -> list[str]:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return [item["email"] for item in response.json()["items"]]


def test_list_filters(api: ApiClient) -> None:
    make_contact(
        email="zhang.wei@example.cn", given_name="伟", family_name="张", country="CN", tags=["vip"]
    )
    make_contact(
        email="anna@example.de",
        given_name="Anna",
        family_name="Schmidt",
        country="DE",
        audience="b2b",
        status=ContactStatus.UNSUBSCRIBED,
    )
    make_contact(
        email="bob@example.com",
        given_name="Bob",
        family_name="Smith",
        country="US",
        phone="+14155550100",
    )

    assert _emails(api, "q=anna") == ["anna@example.de"]
    assert _emails(api, "q=smi") == ["bob@example.com"]
    assert _emails(api, "q=张") == ["zhang.wei@example.cn"]
    assert _emails(api, "q=%2B1415") == ["bob@example.com"]
    assert _emails(api, "status=unsubscribed") == ["anna@example.de"]
    assert _emails(api, "audience=b2b") == ["anna@example.de"]
    assert _emails(api, "country=de") == ["anna@example.de"]
    assert _emails(api, "tag=vip") == ["zhang.wei@example.cn"]
    assert _emails(api, "country=US&status=subscribed") == ["bob@example.com"]
    assert _emails(api, "country=US&status=unsubscribed") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=gone", "status"),
        ("audience=martians", "audience"),
        ("country=China", "country"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_list_refuses_unknown_filter_values(api: ApiClient, query: str, field: str) -> None:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_cursor_pages_cover_every_contact_once_newest_first(api: ApiClient) -> None:
    ids = [make_contact().pk for _ in range(7)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(f"{URL}?{query}").json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit()  # opaque: not the bare id
    assert pages == 3
    assert seen == sorted(ids, reverse=True)


def test_cursor_keeps_filters(api: ApiClient) -> None:
    wanted = [make_contact(country="FR").pk for _ in range(3)]
    for _ in range(3):
        make_contact(country="IT")
    first = api.get(f"{URL}?country=FR&limit=2").json()
    second = api.get(f"{URL}?country=FR&limit=2&cursor={first['next_cursor']}").json()
    assert [c["id"] for c in first["items"] + second["items"]] == sorted(wanted, reverse=True)
    assert second["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "12", "%00%FF", "azE6eHl6"])
def test_a_cursor_we_did_not_give_is_400(api: ApiClient, cursor: str) -> None:
    response = api.get(f"{URL}?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["field"] == "cursor"


def test_list_query_count_does_not_grow_with_the_page(
    api: ApiClient, django_assert_num_queries: Any
) -> None:
    api.get(URL)  # the token's first use also records last_used_at
    for n in range(12):
        make_contact(company=Company.objects.create(name=f"Company {n}"))
    # The token with its user, then the page with the companies joined.
    with django_assert_num_queries(2):
        assert len(api.get(f"{URL}?limit=3").json()["items"]) == 3
    with django_assert_num_queries(2):
        assert len(api.get(f"{URL}?limit=12").json()["items"]) == 12


def test_tracking_can_be_turned_off_and_on_for_a_contact(api: ApiClient) -> None:
    contact = make_contact()
    assert api.get(f"{URL}/{contact.pk}").json()["tracking"] is True
    response = api.patch_json(f"{URL}/{contact.pk}", {"tracking": False})
    assert response.status_code == 200, response.content
    assert response.json()["tracking"] is False
    contact.refresh_from_db()
    assert contact.tracking is False
