"""/api/v1/suppressions: search and pages, blocking by hand, and removal with its rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rapport.accounts.models import AuditEntry
from rapport.delivery.models import Suppression, SuppressionReason
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def _listed(email: str, reason: str = SuppressionReason.HARD_BOUNCE) -> None:
    Suppression.objects.create(email=email, reason=reason, source="imap: 5.1.1")


def test_list_searches_filters_and_pages(api: ApiClient) -> None:
    for n in range(3):
        _listed(f"p{n}@shop.example.com")
    _listed("other@example.net", SuppressionReason.UNSUBSCRIBED)

    first = api.get("/api/v1/suppressions?q=@shop.example.com&limit=2").json()
    second = api.get(
        f"/api/v1/suppressions?q=@shop.example.com&limit=2&cursor={first['next_cursor']}"
    )
    unsubscribed = api.get("/api/v1/suppressions?reason=unsubscribed").json()

    assert [i["email"] for i in first["items"]] == ["p2@shop.example.com", "p1@shop.example.com"]
    assert [i["email"] for i in second.json()["items"]] == ["p0@shop.example.com"]
    assert second.json()["next_cursor"] is None
    assert [i["email"] for i in unsubscribed["items"]] == ["other@example.net"]
    assert first["items"][0]["reason"] == "bounced" and first["items"][0]["source"] == "imap: 5.1.1"
    bad = api.get("/api/v1/suppressions?reason=lost")
    assert bad.status_code == 422 and bad.json()["field"] == "reason"


def test_add_blocks_and_refuses_duplicates_and_nonsense(api: ApiClient) -> None:
    added = api.post_json("/api/v1/suppressions", {"email": "Stop@Example.org", "note": "asked"})
    assert added.status_code == 201
    assert added.json()["email"] == "stop@example.org"
    assert added.json()["reason"] == "blocked"
    assert added.json()["added_by"] == api.user.username  # type: ignore[union-attr]

    again = api.post_json("/api/v1/suppressions", {"email": "stop@example.org"})
    assert again.status_code == 409
    assert "on the suppression list already (Blocked by staff" in again.json()["error"]
    wrong = api.post_json("/api/v1/suppressions", {"email": "stop at example.org"})
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "'stop at example.org' is not a valid email address: "
        "An email address must have an @-sign.",
        "field": "email",
    }
    assert Suppression.objects.count() == 1


def test_delete_removes_with_the_reason_in_the_audit_log(api: ApiClient) -> None:
    _listed("gone@example.org")
    response = api.delete(
        "/api/v1/suppressions/gone@example.org", {"reason": "mailbox is back"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 204
    assert not Suppression.objects.exists()
    audit = AuditEntry.objects.get(action="suppression.remove")
    assert audit.detail["why"] == "mailbox is back"


def test_delete_follows_the_rules(api_as: Callable[[str | None], ApiClient]) -> None:
    _listed("erased@example.org", SuppressionReason.ERASED)
    _listed("spam@example.org", SuppressionReason.COMPLAINED)
    _listed("@blocked.example.org", SuppressionReason.BLOCKED)
    owner, marketer = api_as("owner"), api_as("marketer")

    def delete(client: ApiClient, email: str, reason: str = "mistake") -> tuple[int, str]:
        answer = client.delete(f"/api/v1/suppressions/{email}", {"reason": reason},
                               content_type="application/json")  # fmt: skip
        return answer.status_code, answer.json()["error"] if answer.content else ""

    assert delete(owner, "erased@example.org")[0] == 409
    assert delete(marketer, "spam@example.org") == (
        403, "spam@example.org reported a message as spam; only an owner or admin may remove it."
    )  # fmt: skip
    assert delete(marketer, "@blocked.example.org")[0] == 403
    assert delete(owner, "nobody@example.org")[0] == 404
    assert delete(owner, "spam@example.org", reason=" ") == (
        400, "Say why the entry is removed; it goes in the audit log."
    )  # fmt: skip
    assert Suppression.objects.count() == 3
    assert delete(owner, "spam@example.org")[0] == 204
    assert delete(owner, "@blocked.example.org")[0] == 204
    assert list(Suppression.objects.values_list("email", flat=True)) == ["erased@example.org"]
