"""A real SMTP server (aiosmtpd) for tests, told per recipient how to answer: accept, refuse
with a code at RCPT or after DATA, or drop the connection. It keeps what it accepted."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

from tools.with_postgres import free_port


@dataclass
class Received:
    recipient: str
    message_id: str
    raw: bytes
    mail_from: str = ""


@dataclass
class ScriptedHandler:
    """``answers["x@example.com"] = "550 5.1.1 no such user"`` (at RCPT), ``"drop"`` to close
    the line; ``data_answers`` answer after the message was sent."""

    answers: dict[str, str] = field(default_factory=dict)
    data_answers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering DATA, to let a test act mid-campaign
    # Messages being answered at once, per recipient domain and overall, and the most seen.
    busy: Counter[str] = field(default_factory=Counter)
    most_at_once: Counter[str] = field(default_factory=Counter)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        answer = self.answers.get(address.lower())
        if answer == "drop":
            server.transport.close()
            return "421 closing"
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0].lower()
        domain = recipient.rpartition("@")[2]
        for key in (domain, "*"):
            self.busy[key] += 1
            self.most_at_once[key] = max(self.most_at_once[key], self.busy[key])
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            for key in (domain, "*"):
                self.busy[key] -= 1
        answer = self.data_answers.get(recipient)
        if answer:
            return answer
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.received.append(
            Received(recipient, str(parsed["Message-ID"]), raw, envelope.mail_from or "")
        )
        return "250 OK queued"


@contextmanager
def smtp_server() -> Iterator[tuple[ScriptedHandler, int]]:
    handler = ScriptedHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
