"""Contacts → Suppression list: search and filter, block, remove after confirming, export;
the contact page says when and why an address is suppressed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.delivery.models import Suppression, SuppressionReason
from tests.factories import make_contact

pytestmark = pytest.mark.django_db
ClientFor = Callable[..., Client]


def _listed(email: str, reason: str = SuppressionReason.HARD_BOUNCE) -> None:
    Suppression.objects.create(email=email, reason=reason, source="imap: 5.1.1 no such user")


def test_the_page_searches_and_filters(client_for: ClientFor) -> None:
    _listed("anna@shop.example.com")
    _listed("bo@other.example.com", SuppressionReason.UNSUBSCRIBED)
    _listed("cy@shop.example.com", SuppressionReason.ERASED)
    client = client_for(Role.VIEWER)

    everything = client.get("/contacts/suppressions/").content.decode()
    domain = client.get("/contacts/suppressions/?q=@shop.example.com").content.decode()
    unsubscribed = client.get("/contacts/suppressions/?reason=unsubscribed").content.decode()

    assert all(e in everything for e in ("anna@", "bo@", "cy@", "imap: 5.1.1 no such user"))
    assert "anna@" in domain and "cy@" in domain and "bo@" not in domain
    assert "bo@" in unsubscribed and "anna@" not in unsubscribed
    # A viewer sees no add form and no remove buttons; an erased entry is marked permanent.
    assert 'id="suppression-add"' not in everything
    assert "suppression_remove" not in everything and "/suppressions/remove" not in everything
    assert "Permanent" in everything


def test_the_page_pages_by_keyset(client_for: ClientFor) -> None:
    for n in range(55):
        _listed(f"p{n:02}@example.com")
    client = client_for(Role.VIEWER)
    first = client.get("/contacts/suppressions/").content.decode()
    assert "p54@example.com" in first and "p04@example.com" not in first
    assert 'rel="next"' in first
    after = Suppression.objects.get(email="p05@example.com").pk
    second = client.get(f"/contacts/suppressions/?after={after}").content.decode()
    assert "p04@example.com" in second and "p00@example.com" in second
    assert "p05@example.com" not in second and 'rel="next"' not in second


def test_block_then_remove_with_a_reason(client_for: ClientFor) -> None:
    client = client_for(Role.SUPPORT)

    added = client.post(
        "/contacts/suppressions/add", {"email": "Dee@Example.com", "note": "phoned"}
    )
    assert added.status_code == 302
    row = Suppression.objects.get(email="dee@example.com")
    assert (row.reason, row.note) == ("blocked", "phoned")
    page = client.get("/contacts/suppressions/").content.decode()
    assert "dee@example.com is blocked: it gets no email." in page
    assert "Only an owner or admin may block a whole domain." in page
    assert "does not subscribe the contact again" in page  # the confirmation says so

    removed = client.post(
        "/contacts/suppressions/remove", {"email": "dee@example.com", "why": "wrong person"}
    )
    assert removed.status_code == 302
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.get(action="suppression.remove").detail["why"] == "wrong person"
    after = client.get("/contacts/suppressions/").content.decode()
    assert "The contact&#x27;s status and consent are unchanged" in after


def test_a_bad_address_is_shown_again_with_the_reason(client_for: ClientFor) -> None:
    client = client_for(Role.MARKETER)
    response = client.post(
        "/contacts/suppressions/add", {"email": "dee at example", "note": "keep me"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "is not a valid email address" in page
    assert 'value="dee at example"' in page and 'value="keep me"' in page
    domain = client.post("/contacts/suppressions/add", {"email": "@example.com"})
    assert domain.status_code == 403
    assert not Suppression.objects.exists()


def test_rules_that_refuse_a_removal_say_why(client_for: ClientFor) -> None:
    _listed("erased@example.com", SuppressionReason.ERASED)
    _listed("spam@example.com", SuppressionReason.COMPLAINED)
    marketer = client_for(Role.MARKETER)
    assert "spam@example.com" in marketer.get("/contacts/suppressions/").content.decode()

    marketer.post("/contacts/suppressions/remove", {"email": "spam@example.com", "why": "x"})
    client_for(Role.OWNER).post(
        "/contacts/suppressions/remove", {"email": "erased@example.com", "why": "x"}
    )

    assert Suppression.objects.count() == 2
    page = marketer.get("/contacts/suppressions/").content.decode()
    assert "only an owner or admin may remove it" in page
    assert client_for(Role.VIEWER).post(
        "/contacts/suppressions/remove", {"email": "spam@example.com", "why": "x"}
    ).status_code == 403  # fmt: skip


def test_export_is_a_safe_csv_and_audited(client_for: ClientFor) -> None:
    _listed("=cmd@example.com")  # cannot be an address, but an import of old data might hold it
    _listed("ok@example.com", SuppressionReason.UNSUBSCRIBED)
    assert client_for(Role.SUPPORT).get("/contacts/suppressions/export.csv").status_code == 403

    response = client_for(Role.MARKETER).get("/contacts/suppressions/export.csv?reason=bounced")

    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith("\ufeffemail,reason,source,note,added_by,created_at\r\n")
    assert "'=cmd@example.com,bounced" in body and "ok@example.com" not in body
    assert AuditEntry.objects.get(action="suppressions.export").detail == {
        "q": "",
        "reason": "bounced",
    }


def test_the_contact_page_says_since_when_and_why(client_for: ClientFor) -> None:
    listed = make_contact(email="eve@example.com")
    by_domain = make_contact(email="fay@blocked.example.com")
    free = make_contact(email="gus@example.com")
    _listed("eve@example.com")
    Suppression.objects.create(email="@blocked.example.com", reason=SuppressionReason.BLOCKED)
    client = client_for(Role.VIEWER)

    page = client.get(f"/contacts/{listed.pk}/").content.decode()
    assert "Suppressed since" in page and "(Hard bounce)" in page
    domain_page = client.get(f"/contacts/{by_domain.pk}/").content.decode()
    assert (
        "(Blocked by staff)" in domain_page
        and "@blocked.example.com is on the suppression list" in domain_page
    )
    assert 'id="contact-suppressed"' not in client.get(f"/contacts/{free.pk}/").content.decode()


def test_the_page_speaks_chinese(client_for: ClientFor) -> None:
    _listed("hu@example.com", SuppressionReason.BLOCKED)
    page = client_for(Role.OWNER, language="zh-hans").get("/contacts/suppressions/")
    text = page.content.decode()
    assert (
        "禁发名单" in text and "员工屏蔽" in text and "输入 @example.com 可屏蔽整个域名。" in text
    )
