"""The local mail catcher is a real SMTP server that keeps what it receives."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from rapport.delivery.mailcatcher import make_controller
from rapport.delivery.models import CaughtMessage
from tools.with_postgres import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_messages_sent_over_smtp_are_stored_whole():
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        message = EmailMessage()
        message["From"] = "shop@example.com"
        message["To"] = "李娜 <li.na@example.com>"
        message["Subject"] = "春节快乐 — 20% off"
        message.set_content("Hello 李娜")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            refused = client.send_message(message)
    finally:
        controller.stop()

    assert refused == {}
    caught = CaughtMessage.objects.get()
    assert caught.subject == "春节快乐 — 20% off"
    assert caught.recipients == ["li.na@example.com"]
    assert caught.mail_from == "shop@example.com"
    assert b"Hello" in bytes(caught.raw)
    assert caught.size == len(bytes(caught.raw))
