"""The local mail catcher: an SMTP server on loopback that keeps every message it receives.

``make run`` starts it so that a new install sends real messages somewhere visible (the UI's
outbox) without an SMTP account. It accepts any sender and recipient and never relays.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import logging
import signal
from typing import Any

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

from rapport.delivery.models import CaughtMessage

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def store_message(mail_from: str, recipients: list[str], raw: bytes) -> CaughtMessage:
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    subject = str(headers.get("Subject", ""))[:500]
    close_old_connections()
    try:
        return CaughtMessage.objects.create(
            mail_from=mail_from[:320],
            recipients=recipients,
            subject=subject,
            raw=raw,
            size=len(raw),
        )
    finally:
        # A catcher gets little mail; holding a connection open in its thread only keeps
        # PostgreSQL sessions (and test databases) busy.
        connection.close()


class CatchingHandler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await sync_to_async(store_message, thread_sensitive=True)(
                envelope.mail_from or "", list(envelope.rcpt_tos), raw
            )
        except Exception:
            log.exception("the mail catcher could not store a message")
            return "451 Requested action aborted: could not store the message, try again"
        return "250 OK caught"


def make_controller(host: str, port: int) -> Controller:
    return Controller(
        CatchingHandler(),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        decode_data=False,
        ready_timeout=10,
    )


def serve(host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM."""
    controller = make_controller(host, port)
    controller.start()
    log.info("mail catcher listening on %s:%s", host, port)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        loop.close()
