"""A rendered message made into the bytes an SMTP server receives, with the headers a
marketing email needs: Message-ID, List-Unsubscribe with one-click (RFC 8058), and a header
naming the delivery so bounces and replies find their way back."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from rapport.content.rendering import RenderedMessage, header_text


@dataclass(frozen=True, slots=True)
class Envelope:
    from_name: str
    from_email: str
    to_email: str
    to_name: str
    reply_to: str
    unsubscribe_url: str
    delivery_id: int
    date: dt.datetime


def message_id(delivery_id: int, domain: str) -> str:
    return f"<{delivery_id}.{secrets.token_hex(6)}@{domain}>"


def compose(message: RenderedMessage, envelope: Envelope, message_id: str) -> bytes:
    """MIME bytes (CRLF) of one message; every header value is a single line."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = Address(header_text(envelope.from_name), addr_spec=envelope.from_email)
    mail["To"] = Address(header_text(envelope.to_name), addr_spec=envelope.to_email)
    if envelope.reply_to:
        mail["Reply-To"] = envelope.reply_to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(envelope.date)
    mail["Message-ID"] = message_id
    if envelope.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail["X-Rapport-Delivery"] = str(envelope.delivery_id)
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail.as_bytes()
