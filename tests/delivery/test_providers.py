"""Mail providers through django-anymail: the send pool's transport (anymail's own test
backend stands in for the provider's paid API, the one thing that cannot run here), and the
webhooks, checked with the provider's real signature scheme, which change what bounces do."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.test import Client

from rapport.crm.models import Contact, ContactStatus
from rapport.delivery.mime import OutgoingMessage, build_mime
from rapport.delivery.models import Bounce, Suppression, SuppressionReason
from rapport.delivery.providers import AnymailTransport
from rapport.delivery.transport import Outcome
from tests.delivery.test_bouncing import _sent_campaign

pytestmark = pytest.mark.django_db
SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def _built(delivery_id: int = 7) -> bytes:
    return build_mime(
        OutgoingMessage(
            from_name="Rapport Outdoor",
            from_address="news@shop.example.com",
            to_name="李娜",
            to_address="lina@example.org",
            subject="李娜，本月精选",
            html="<p>您好！<a href='https://shop.example.com/p/1'>看看</a></p>",
            text="您好！看看 https://shop.example.com/p/1",
            message_id=f"<{delivery_id}.0a1b2c3d4e5f@shop.example.com>",
            date=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC),
            list_unsubscribe_url="https://shop.example.com/e/unsubscribe/abc",
            extra_headers=(("X-Rapport-Delivery", str(delivery_id)),),
        )
    )


def test_the_transport_hands_the_whole_message_to_the_provider() -> None:
    mail.outbox = []

    answer = AnymailTransport("test").send(
        "bounces+7-x@shop.example.com", "lina@example.org", _built()
    )

    assert answer.outcome is Outcome.ACCEPTED
    sent = mail.outbox[-1]
    assert sent.subject == "李娜，本月精选"
    assert sent.to == ["lina@example.org"]
    assert "您好！" in sent.body
    assert "<a href='https://shop.example.com/p/1'>" in sent.alternatives[0][0]
    assert sent.extra_headers["List-Unsubscribe"] == "<https://shop.example.com/e/unsubscribe/abc>"
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.extra_headers["Message-ID"] == "<7.0a1b2c3d4e5f@shop.example.com>"
    assert sent.metadata == {"rapport_delivery": "7"}  # comes back in the webhooks
    assert sent.envelope_sender == "bounces+7-x@shop.example.com"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(503, Outcome.RETRY), (429, Outcome.RETRY), (400, Outcome.REFUSED)],
)
def test_provider_errors_become_retry_or_refusal(status: int, outcome: Outcome) -> None:
    transport = AnymailTransport("test")
    original = transport._connection.post_to_esp

    def failing(payload: Any, message: Any) -> Any:
        response = requests.Response()
        response.status_code, response.reason = status, "from the provider"
        response._content = b'{"message": "busy"}'
        message.anymail_test_response = AnymailAPIError(
            f"HTTP {status}", status_code=status, response=response
        )
        return original(payload, message)

    transport._connection.post_to_esp = failing

    answer = transport.send("b@shop.example.com", "lina@example.org", _built())

    assert answer.outcome is outcome
    assert answer.code == status


def _mailgun(event_data: dict[str, Any], token: str, key: str = SIGNING_KEY) -> str:
    timestamp = "1763892000"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return json.dumps(
        {
            "signature": {
                "timestamp": timestamp,
                "token": token,
                "signature": signature.hexdigest(),
            },
            "event-data": {"timestamp": 1763892000.5, **event_data},
        }
    )


def _post(body: str) -> Any:
    return Client().post("/webhooks/mailgun/tracking/", body, content_type="application/json")


@pytest.fixture
def mailgun(settings: Any) -> None:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def test_a_signed_permanent_failure_suppresses_and_a_retry_counts_once(mailgun: None) -> None:
    row = _sent_campaign(1)[0]
    body = _mailgun(
        {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "recipient": row.contact.email,
            "user-variables": {"rapport_delivery": str(row.pk)},
            "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist"},
        },
        token="a7c0f1d2e3b4a5968778695a4b3c2d1e0f",
    )

    assert _post(body).status_code == 200
    assert _post(body).status_code == 200  # the provider retries the same event

    bounce = Bounce.objects.get()
    assert (bounce.kind, bounce.delivery_id, bounce.source) == ("hard", row.pk, "webhook:mailgun")
    assert Suppression.objects.get(email=row.contact.email).reason == SuppressionReason.HARD_BOUNCE


def test_a_complaint_through_the_webhook_suppresses(mailgun: None) -> None:
    row = _sent_campaign(1)[0]
    body = _mailgun(
        {
            "event": "complained",
            "recipient": row.contact.email,
            "user-variables": {"rapport_delivery": str(row.pk)},
        },
        token="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    )

    assert _post(body).status_code == 200

    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.COMPLAINED


def test_a_webhook_with_a_wrong_signature_changes_nothing(mailgun: None) -> None:
    row = _sent_campaign(1)[0]
    body = _mailgun(
        {"event": "complained", "recipient": row.contact.email},
        token="forged-token-000000000000",
        key="not-the-signing-key",
    )

    response = _post(body)

    assert response.status_code == 400
    assert not Bounce.objects.exists()
    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.SUBSCRIBED


def test_a_temporary_failure_is_a_delay_not_a_bounce(mailgun: None) -> None:
    row = _sent_campaign(1)[0]
    body = _mailgun(
        {
            "event": "failed",
            "severity": "temporary",
            "reason": "generic",
            "recipient": row.contact.email,
            "user-variables": {"rapport_delivery": str(row.pk)},
        },
        token="11112222333344445555666677778888",
    )

    assert _post(body).status_code == 200

    assert Bounce.objects.get().kind == "delayed"
    assert not Suppression.objects.exists()
