"""The bounce mailbox read over IMAP from a real Dovecot: every sample report applied once,
bounces filed away, and what is for a person left unread where it was."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from typing import Any

import pytest

from rapport.crm.models import Contact, ContactStatus
from rapport.delivery.mailbox import MailboxError, MailboxSettings, read_bounces
from rapport.delivery.models import Bounce, Delivery, DeliveryState, Suppression
from rapport.delivery.verp import return_path, unsubscribe_address
from tests.delivery.test_bounce_samples import SAMPLES
from tests.factories import started_campaign
from tests.imap_server import ImapAccount, deliver, folder_messages, imap_server

pytestmark = pytest.mark.django_db

# sample file -> (its delivery id, the address it is about)
SAMPLE_RECIPIENTS = {
    "postfix-550-user-unknown.eml": (123, "no-such-user@example.net"),
    "postfix-552-mailbox-full.eml": (124, "full-mailbox@example.org"),
    "postfix-4xx-gave-up.eml": (125, "unreachable@example.net"),
    "postfix-delay-warning.eml": (126, "greylisted@example.org"),
    "arf-complaint.eml": (456, "li.wei@example.net"),
    "auto-reply-out-of-office.eml": (457, "zhang.min@example.org"),
    "auto-reply-no-headers.eml": (458, "wang.fang@example.cn"),
    "human-reply.eml": (459, "chen.jing@example.net"),
    "exchange-ndr-550.eml": (460, "wang.lei@example.org"),
    "qmail-bounce.eml": (461, "zhao.lei@example.net"),
    "unparseable.eml": (462, "someone@example.org"),
}
FOR_A_PERSON = {"auto-reply-out-of-office.eml", "auto-reply-no-headers.eml",
                "human-reply.eml", "unparseable.eml"}  # fmt: skip


@pytest.fixture(scope="module")
def dovecot() -> Iterator[ImapAccount]:
    with imap_server() as account:
        yield account


def _settings(account: ImapAccount, **changes: Any) -> MailboxSettings:
    fields: dict[str, Any] = {
        "host": account.host,
        "port": account.port,
        "username": account.user,
        "password": account.password,
        "folder": "INBOX",
        "processed": f"Processed-{id(changes)}",
    }
    fields.update(changes)
    return MailboxSettings(**fields)


def _deliveries() -> dict[int, Delivery]:
    """One sent delivery per sample, to the address the sample is about."""
    started_campaign([address for _, address in SAMPLE_RECIPIENTS.values()], name="Samples")
    rows = {row.contact.email: row for row in Delivery.objects.select_related("contact")}
    Delivery.objects.update(state=DeliveryState.SENT)
    return {old: rows[address] for old, address in SAMPLE_RECIPIENTS.values()}


def _as_sent_to(raw: bytes, old: int, row: Delivery) -> bytes:
    """The sample as if it were about our delivery: its VERP address and our Message-ID."""
    raw = re.sub(
        rb"bounces\+%d-[0-9a-f]{10}@bounce\.example\.com" % old,
        return_path(row.pk, "bounce.example.com").encode(),
        raw,
    )
    ours = re.search(rb"<%d\.([0-9a-f]+)@shop\.example\.com>" % old, raw)
    if ours:
        row.message_id = f"<{row.pk}.{ours.group(1).decode()}@shop.example.com>"
        row.save(update_fields=["message_id"])
        raw = raw.replace(ours.group(0), row.message_id.encode())
    return raw


def test_every_sample_is_applied_once_and_filed(dovecot: ImapAccount) -> None:
    rows = _deliveries()
    for name, (old, _) in SAMPLE_RECIPIENTS.items():
        deliver(dovecot, _as_sent_to((SAMPLES / name).read_bytes(), old, rows[old]))
    settings = _settings(dovecot)

    report = read_bounces(settings)

    assert report.read == len(SAMPLE_RECIPIENTS)
    assert report.errors == []
    assert dict(report.kinds) == {
        "hard": 4, "soft": 1, "delayed": 1, "complaint": 1, "auto_reply": 2, "human": 2,
    }  # fmt: skip
    suppressed = set(Suppression.objects.values_list("email", "reason"))
    assert suppressed == {
        ("no-such-user@example.net", "bounced"),
        ("full-mailbox@example.org", "bounced"),
        ("wang.lei@example.org", "bounced"),
        ("zhao.lei@example.net", "bounced"),
        ("li.wei@example.net", "complained"),
    }
    assert Contact.objects.get(email="unreachable@example.net").status == ContactStatus.SUBSCRIBED
    assert Contact.objects.get(email="chen.jing@example.net").status == ContactStatus.SUBSCRIBED
    assert Bounce.objects.filter(delivery__isnull=False).count() == 7  # each found its row

    left = folder_messages(dovecot)
    subjects = {str(email.message_from_bytes(m)["Subject"]) for m in left}
    kept = {str(email.message_from_bytes((SAMPLES / n).read_bytes())["Subject"])
            for n in FOR_A_PERSON}  # fmt: skip
    assert subjects == kept  # for a person: still in the inbox
    assert len(folder_messages(dovecot, settings.processed)) == 7  # the reports: filed

    again = read_bounces(settings)  # nothing new: the kept ones were looked at already
    assert again.read == 0
    assert Bounce.objects.count() == 7


def test_mail_to_the_list_unsubscribe_address_unsubscribes(dovecot: ImapAccount) -> None:
    rows = _deliveries()
    row = rows[459]
    deliver(
        dovecot,
        (
            f"From: {row.contact.email}\r\nTo: {unsubscribe_address(row.pk, 'bounce.example.com')}"
            "\r\nSubject: unsubscribe\r\nMessage-ID: <u-1@example.net>\r\n\r\n"
        ).encode(),
        folder="Unsubscribes",
    )

    report = read_bounces(_settings(dovecot, folder="Unsubscribes"))

    assert report.kinds["unsubscribe"] == 1
    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.UNSUBSCRIBED
    assert folder_messages(dovecot, "Unsubscribes") == []


def test_a_wrong_password_and_a_closed_port_say_what_is_wrong(dovecot: ImapAccount) -> None:
    with pytest.raises(MailboxError, match="refused the login"):
        read_bounces(_settings(dovecot, password="wrong"))
    with pytest.raises(MailboxError, match=r"cannot reach the IMAP server at 127\.0\.0\.1:1"):
        read_bounces(_settings(dovecot, port=1))
