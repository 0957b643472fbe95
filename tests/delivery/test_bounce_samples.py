"""Real and realistic reports (tests/delivery/bounce_samples, see its README) classified the
way a person reading them would: hard, soft, complaint, a warning, or not a bounce at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rapport.delivery.bounces import Kind, classify
from rapport.delivery.verp import return_path, unsubscribe_address

SAMPLES = Path(__file__).parent / "bounce_samples"
_VERP = re.compile(rb"bounces\+(\d+)-[0-9a-f]{10}@bounce\.example\.com")


def signed(name: str) -> bytes:
    """The sample with its made-up VERP tokens replaced by real signatures (same ids)."""
    raw = (SAMPLES / name).read_bytes()
    return _VERP.sub(lambda m: return_path(int(m.group(1)), "bounce.example.com").encode(), raw)


# file, kind, recipient, status, delivery (from VERP or the quoted original)
EXPECTED = [
    ("postfix-550-user-unknown.eml", Kind.HARD, "no-such-user@example.net", "5.1.1", 123),
    ("postfix-552-mailbox-full.eml", Kind.HARD, "full-mailbox@example.org", "5.2.2", 124),
    ("postfix-4xx-gave-up.eml", Kind.SOFT, "unreachable@example.net", "4.3.0", 125),
    ("postfix-delay-warning.eml", Kind.DELAYED, "greylisted@example.org", "4.2.0", 126),
    ("arf-complaint.eml", Kind.COMPLAINT, "li.wei@example.net", "", 456),
    ("auto-reply-out-of-office.eml", Kind.AUTO_REPLY, None, "", 457),
    ("auto-reply-no-headers.eml", Kind.AUTO_REPLY, None, "", 458),
    ("human-reply.eml", Kind.HUMAN, None, "", 459),
    ("exchange-ndr-550.eml", Kind.HARD, None, "5.1.10", 460),
    ("qmail-bounce.eml", Kind.HARD, "zhao.lei@example.net", "5.1.1", 461),
    ("unparseable.eml", Kind.HUMAN, None, "", 462),
]


@pytest.mark.parametrize(("name", "kind", "recipient", "status", "delivery"), EXPECTED)
def test_each_sample_is_read_as_a_person_would(
    name: str, kind: Kind, recipient: str | None, status: str, delivery: int
) -> None:
    finding = classify(signed(name))

    assert finding.kind is kind
    if recipient is not None:
        assert finding.recipient == recipient
    assert finding.status == status
    assert finding.delivery_id == delivery


def test_a_made_up_verp_signature_names_no_delivery() -> None:
    finding = classify((SAMPLES / "postfix-550-user-unknown.eml").read_bytes())
    assert finding.kind is Kind.HARD
    # The sample's own token is not our signature; the quoted Message-ID is all that is left.
    assert finding.delivery_id is None
    assert finding.original_message_id.startswith("<123.")


def test_hard_bounces_say_why_in_the_servers_words() -> None:
    assert "User unknown" in classify(signed("postfix-550-user-unknown.eml")).diagnostic
    assert "RecipientNotFound" in classify(signed("exchange-ndr-550.eml")).diagnostic


def test_mail_to_the_unsubscribe_address_is_an_unsubscribe_whatever_it_says() -> None:
    raw = (
        f"From: someone@example.org\r\nTo: {unsubscribe_address(77, 'bounce.example.com')}\r\n"
        "Subject: unsubscribe\r\nMessage-ID: <u1@example.org>\r\n\r\n"
    ).encode()
    finding = classify(raw)
    assert (finding.kind, finding.delivery_id) == (Kind.UNSUBSCRIBE, 77)
    forged = raw.replace(b"unsubscribe+77-", b"unsubscribe+78-")
    assert classify(forged).kind is Kind.HUMAN


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"", Kind.UNRECOGNISED),  # no sender at all: kept for a person, never counted
        (b"\xff\xfe\x00garbage", Kind.UNRECOGNISED),
        (
            b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary",
            Kind.UNRECOGNISED,
        ),
        (  # an empty feedback report is still a complaint (and trips one flufl detector)
            b"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; "
            b'report-type=feedback-report; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: message/feedback-report\r\n\r\n--b--",
            Kind.COMPLAINT,
        ),
    ],
)
def test_broken_messages_are_classified_without_raising(raw: bytes, kind: Kind) -> None:
    assert classify(raw).kind is kind
