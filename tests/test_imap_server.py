"""The private Dovecot starts, keeps what is appended, and checks passwords like a real one."""

from __future__ import annotations

import imaplib
from dataclasses import replace

import pytest

from tests.imap_server import deliver, folder_messages, imap_server


def _message(subject: str) -> bytes:
    return (
        f"From: a@example.com\r\nTo: bounces@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@example.com>\r\n\r\nbody of {subject}\r\n"
    ).encode()


def test_appended_messages_read_back() -> None:
    with imap_server() as account:
        deliver(account, _message("one"))
        deliver(account, _message("two"))
        deliver(account, _message("three"), folder="Archive")
        assert folder_messages(account) == [_message("one"), _message("two")]
        assert folder_messages(account, "Archive") == [_message("three")]


def test_wrong_password_is_refused() -> None:
    with imap_server() as account, pytest.raises(imaplib.IMAP4.error):
        folder_messages(replace(account, password="wrong"))
