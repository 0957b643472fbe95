"""The suppression list's rules: who may add and remove what, the audit trail, clear errors
for malformed input, and a domain block honoured wherever sending asks."""

from __future__ import annotations

import pytest

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.campaigns.audience import may_receive_marketing
from rapport.crm.models import Contact, ContactStatus
from rapport.delivery.models import Suppression, SuppressionReason
from rapport.delivery.suppressions import (
    add_suppression,
    entry_for_address,
    export_suppressions,
    list_suppressions,
    may_remove,
    remove_suppression,
    suppressed_among,
)
from rapport.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def _listed(email: str, reason: str) -> Suppression:
    return Suppression.objects.create(email=email, reason=reason, source="test")


def test_add_normalises_blocks_and_audits() -> None:
    marketer = make_user(Role.MARKETER)

    entry = add_suppression("  Anna@Example.COM ", note="asked by phone", acting_user=marketer)

    assert entry.email == "anna@example.com"
    assert entry.reason == SuppressionReason.BLOCKED
    assert entry.added_by == marketer.username
    row = Suppression.objects.get(email="anna@example.com")
    assert (row.note, row.added_by) == ("asked by phone", marketer)
    audit = AuditEntry.objects.get(action="suppression.add")
    assert audit.actor == marketer
    assert audit.detail == {
        "email": "anna@example.com", "reason": "blocked", "note": "asked by phone"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "Enter an email address"),
        ("anna", "'anna' is not a valid email address"),
        ("anna@@example.com", "is not a valid email address"),
        ("@", "'@' is not a domain"),
        ("@not a domain", "is not a domain"),
    ],
)
def test_malformed_input_is_refused_with_the_reason(raw: str, says: str) -> None:
    with pytest.raises(InvalidInput) as error:
        add_suppression(raw, acting_user=None)
    assert says in error.value.message
    assert error.value.field == "email"
    assert not Suppression.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="suppression").exists()


def test_adding_an_address_twice_says_since_when_and_why() -> None:
    _listed("bea@example.com", SuppressionReason.HARD_BOUNCE)
    with pytest.raises(Conflict, match=r"bea@example.com is on the suppression list already "
                                       r"\(Hard bounce, since \d{4}-\d\d-\d\d\)"):  # fmt: skip
        add_suppression("BEA@example.com", acting_user=None)
    assert Suppression.objects.get().reason == SuppressionReason.HARD_BOUNCE


def test_a_viewer_may_look_but_not_block() -> None:
    viewer = make_user(Role.VIEWER)
    _listed("cai@example.com", SuppressionReason.UNSUBSCRIBED)
    assert [e.email for e in list_suppressions(viewer).entries] == ["cai@example.com"]
    with pytest.raises(PermissionDenied):
        add_suppression("dan@example.com", acting_user=viewer)
    with pytest.raises(PermissionDenied):
        remove_suppression("cai@example.com", reason="mistake", acting_user=viewer)
    assert Suppression.objects.count() == 1


def test_an_erased_entry_cannot_be_removed_by_anyone() -> None:
    _listed("erased@example.com", SuppressionReason.ERASED)
    for actor in (make_user(Role.OWNER), None):
        with pytest.raises(Conflict, match="erased on request"):
            remove_suppression("erased@example.com", reason="please", acting_user=actor)
    assert Suppression.objects.filter(email="erased@example.com").exists()
    assert not AuditEntry.objects.filter(action="suppression.remove").exists()


def test_a_complaint_is_removed_only_by_an_admin_or_owner() -> None:
    _listed("fei@example.com", SuppressionReason.COMPLAINED)
    for role in (Role.MARKETER, Role.SUPPORT):
        with pytest.raises(PermissionDenied, match="only an owner or admin"):
            remove_suppression("fei@example.com", reason="mistake", acting_user=make_user(role))
    admin = make_user(Role.ADMIN)
    assert may_remove(admin, list_suppressions(admin).entries[0])
    assert not may_remove(make_user(Role.MARKETER), list_suppressions(admin).entries[0])

    remove_suppression("fei@example.com", reason="clicked by mistake", acting_user=admin)

    assert not Suppression.objects.exists()
    audit = AuditEntry.objects.get(action="suppression.remove")
    assert audit.actor == admin
    assert audit.detail == {
        "email": "fei@example.com", "reason": "complained", "why": "clicked by mistake"
    }  # fmt: skip


def test_support_removes_a_mistaken_bounce_and_the_contact_stays_bounced() -> None:
    contact = make_contact(email="gao@example.com", status=ContactStatus.BOUNCED)
    _listed("gao@example.com", SuppressionReason.HARD_BOUNCE)

    remove_suppression(
        "Gao@Example.com", reason="mailbox full, not gone", acting_user=make_user(Role.SUPPORT)
    )

    assert not Suppression.objects.exists()
    contact.refresh_from_db()
    assert contact.status == ContactStatus.BOUNCED  # removing never resubscribes


def test_remove_needs_a_reason_and_an_entry() -> None:
    _listed("hu@example.com", SuppressionReason.BLOCKED)
    with pytest.raises(InvalidInput, match="Say why") as error:
        remove_suppression("hu@example.com", reason="  ", acting_user=None)
    assert error.value.field == "reason"
    with pytest.raises(NotFound, match=r"nobody@example\.com is not on the suppression list"):
        remove_suppression("nobody@example.com", reason="x", acting_user=None)
    assert Suppression.objects.count() == 1


def test_a_domain_block_is_for_admins_and_stops_every_address_of_the_domain() -> None:
    blocked = make_contact(email="ivy@spam-trap.example.com", status=ContactStatus.SUBSCRIBED)
    near = make_contact(email="jo@not-spam-trap.example.com", status=ContactStatus.SUBSCRIBED)
    with pytest.raises(PermissionDenied):
        add_suppression("@spam-trap.example.com", acting_user=make_user(Role.MARKETER))

    entry = add_suppression(
        "@Spam-Trap.Example.com", note="a trap", acting_user=make_user(Role.ADMIN)
    )

    assert entry.email == "@spam-trap.example.com" and entry.is_domain
    allowed = set(Contact.objects.filter(may_receive_marketing()).values_list("email", flat=True))
    assert blocked.email not in allowed and near.email in allowed
    assert suppressed_among([blocked.email, near.email]) == {blocked.email}
    found = entry_for_address(blocked.email)
    assert found is not None and found.email == "@spam-trap.example.com"
    assert entry_for_address(near.email) is None
    with pytest.raises(PermissionDenied, match="whole domain"):
        remove_suppression(
            "@spam-trap.example.com", reason="x", acting_user=make_user(Role.SUPPORT)
        )


def test_an_address_entry_is_found_before_its_domain() -> None:
    _listed("kai@example.com", SuppressionReason.UNSUBSCRIBED)
    _listed("@example.com", SuppressionReason.BLOCKED)
    found = entry_for_address("kai@example.com")
    assert found is not None and found.reason == SuppressionReason.UNSUBSCRIBED


def test_search_by_part_or_domain_filter_by_reason_and_pages() -> None:
    for n in range(5):
        _listed(f"user{n}@alpha.example.com", SuppressionReason.HARD_BOUNCE)
    _listed("user9@beta.example.com", SuppressionReason.UNSUBSCRIBED)
    _listed("@alpha.example.com", SuppressionReason.BLOCKED)

    domain = list_suppressions(None, q="@Alpha.example.com")
    assert len(domain.entries) == 6
    assert [e.email for e in list_suppressions(None, q="user9").entries] == [
        "user9@beta.example.com"
    ]
    bounced = list_suppressions(None, reason="bounced", limit=2)
    assert [e.email for e in bounced.entries] == [
        "user4@alpha.example.com",
        "user3@alpha.example.com",
    ]
    rest = list_suppressions(None, reason="bounced", limit=2, after=bounced.next_after)
    last = list_suppressions(None, reason="bounced", limit=2, after=rest.next_after)
    assert [e.email for e in last.entries] == ["user0@alpha.example.com"]
    assert last.next_after is None
    with pytest.raises(InvalidInput, match="'lost' is not a reason") as error:
        list_suppressions(None, reason="lost")
    assert error.value.field == "reason"


def test_export_defuses_formulas_and_writes_a_bom(tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_suppression("lin@example.com", note='=HYPERLINK("http://x")', acting_user=make_user())
    _listed("mo@example.com", SuppressionReason.COMPLAINED)
    path = tmp_path / "list.csv"

    count = export_suppressions(path)

    assert count == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "email,reason,source,note,added_by,created_at"
    assert lines[1].startswith("lin@example.com,blocked,staff: owner")
    assert ',"\'=HYPERLINK(""http://x"")",' in lines[1]
    assert lines[2].startswith("mo@example.com,complained,test,,,")
    assert AuditEntry.objects.filter(action="suppressions.export").exists()
