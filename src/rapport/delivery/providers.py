"""Mail providers through django-anymail: a transport for the send pool, and their webhooks.

Sending: ``RAPPORT_EMAIL_PROVIDER=mailgun`` (or ``amazon_ses``, ``postmark``, …, any anymail
backend) makes campaigns go through that provider's API instead of SMTP, with its credentials
in ``RAPPORT_ANYMAIL`` (anymail's own settings, as JSON). The message we built is handed over
whole where the provider takes raw MIME, and otherwise as its parts and headers; the delivery
id travels as anymail metadata, which providers echo back in their webhooks.

Webhooks: anymail checks each provider's signature (and ``WEBHOOK_SECRET`` basic auth) before
its ``tracking`` signal fires; ``on_tracking`` turns the event into the same ``Finding`` the
IMAP reader makes, so the suppression and pause rules are the same. The provider's event id is
the report key, so a retried webhook counts once.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from email.message import EmailMessage as ParsedMessage
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.core.mail import EmailMultiAlternatives
from django.dispatch import receiver
from django.utils.module_loading import import_string

from rapport.delivery.bounces import Finding, Kind
from rapport.delivery.bouncing import handle
from rapport.delivery.transport import Answer, Outcome

# Headers the provider must carry over; the rest (Date, MIME structure, our DKIM signatures
# over content the provider re-encodes) is the provider's to write.
_KEPT_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "X-Rapport-Delivery", "Reply-To")


class AnymailTransport:
    """The send pool's transport for a provider's HTTP API (one client per connection)."""

    def __init__(self, provider: str) -> None:
        self.backend = f"anymail.backends.{provider}.EmailBackend"
        # Made directly: with MAILERS, get_connection() no longer takes a backend's path.
        self._connection = import_string(self.backend)(fail_silently=False)

    def send(self, mail_from: str, recipient: str, data: bytes) -> Answer:
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, ParsedMessage)
        message = _as_django_message(parsed, recipient)
        message.envelope_sender = mail_from  # type: ignore[attr-defined]  # anymail attribute
        try:
            self._connection.send_messages([message])
        except AnymailRecipientsRefused:
            return Answer(Outcome.REFUSED, None, f"{self.backend} refused {recipient}")
        except AnymailAPIError as error:
            status = getattr(error, "status_code", None) or 0
            # 429 and 5xx: the provider is busy or down; other 4xx: it will not take this one.
            outcome = Outcome.RETRY if status in (0, 429) or status >= 500 else Outcome.REFUSED
            return Answer(outcome, status or None, _describe(error))
        except AnymailError as error:
            return Answer(Outcome.REFUSED, None, _describe(error))
        status = message.anymail_status  # type: ignore[attr-defined]
        if status.status and status.status <= {"queued", "sent"}:
            return Answer(Outcome.ACCEPTED, 250, f"{status.message_id}")
        return Answer(Outcome.REFUSED, None, f"provider status {sorted(status.status or [])}")

    def close(self) -> None:
        pass


def _describe(error: Exception) -> str:
    """The first line of the provider's complaint (anymail's ``str`` may itself fail)."""
    try:
        text = str(error)
    except Exception:  # describing an error must not raise another
        text = " ".join(str(arg) for arg in error.args)
    return (text.splitlines() or [type(error).__name__])[0][:300]


def _as_django_message(parsed: ParsedMessage, recipient: str) -> EmailMultiAlternatives:
    text_part = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    text = text_part.get_content() if text_part is not None else ""
    message = EmailMultiAlternatives(
        subject=str(parsed["Subject"] or ""),
        body=text,
        from_email=str(parsed["From"]),
        to=[recipient],
        headers={name: str(parsed[name]) for name in _KEPT_HEADERS if parsed[name]},
    )
    if html_part is not None:
        message.attach_alternative(html_part.get_content(), "text/html")
    delivery = parsed["X-Rapport-Delivery"]
    if delivery:
        message.metadata = {"rapport_delivery": str(delivery)}  # type: ignore[attr-defined]
    message.extra_headers["Message-ID"] = str(parsed["Message-ID"])
    return message


_KINDS = {
    EventType.BOUNCED: Kind.HARD,
    EventType.REJECTED: Kind.HARD,
    EventType.FAILED: Kind.SOFT,
    EventType.DEFERRED: Kind.DELAYED,
    EventType.COMPLAINED: Kind.COMPLAINT,
    EventType.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
}


def finding_of(event: AnymailTrackingEvent) -> Finding | None:
    """The event as a report, or None for what is not one (delivered, opened, …)."""
    kind = _KINDS.get(event.event_type)
    if kind is None:
        return None
    metadata: dict[str, Any] = event.metadata or {}
    delivery = str(metadata.get("rapport_delivery", ""))
    # A bounce the provider calls temporary in its reason is soft, whatever it filed it under.
    if kind is Kind.HARD and str(event.reject_reason or "") in ("timed_out", "other"):
        kind = Kind.SOFT
    return Finding(
        kind,
        int(delivery) if delivery.isdigit() else None,
        recipient=(event.recipient or "").lower(),
        diagnostic=str(event.mta_response or event.description or event.reject_reason or "")[:500],
    )


def _event_key(event: AnymailTrackingEvent, esp_name: str) -> str:
    if event.event_id:
        return f"webhook:{esp_name}:{event.event_id}"
    seen = f"{event.event_type}|{event.message_id}|{event.recipient}|{event.timestamp}"
    return f"webhook:{esp_name}:sha256:{hashlib.sha256(seen.encode()).hexdigest()}"


@receiver(tracking)
def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
    finding = finding_of(event)
    if finding is not None:
        handle(finding, source=f"webhook:{esp_name.lower()}"[:40], key=_event_key(event, esp_name))
