"""Handing messages to an SMTP server over one persistent connection.

The answer to each message is reduced to what the pipeline needs: accepted (250), refused for
good (5xx), refused for now (4xx), or no answer at all (the line dropped, a timeout), which is
treated like a 4xx: the message is retried later. The connection is reopened on demand.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from rapport.settings.env import smtp_mailer


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # 5xx
    RETRY = "retry"  # 4xx, or the server dropped the line or did not answer


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: Outcome
    code: int | None
    text: str

    @classmethod
    def from_code(cls, code: int, text: bytes | str) -> Answer:
        message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        if 200 <= code < 300:
            return cls(Outcome.ACCEPTED, code, message)
        return cls(Outcome.REFUSED if code >= 500 else Outcome.RETRY, code, message)


def login(client: smtplib.SMTP, username: str, password: str) -> None:
    """SMTP AUTH. ``smtplib`` encodes credentials as ASCII; RFC 4954 sends them as UTF-8, so a
    password like "passwörd" goes as AUTH PLAIN in UTF-8 instead of failing before it is sent."""
    if (username + password).isascii():
        client.login(username, password)
        return
    if not client.has_extn("auth") or "PLAIN" not in client.esmtp_features["auth"].upper():
        raise smtplib.SMTPException("the server offers no AUTH PLAIN for a non-ASCII password")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, answer = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


class SmtpTransport:
    """One connection to one server; not thread-safe (each sender owns its own)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        options = smtp_mailer(url)["OPTIONS"]
        assert isinstance(options, dict)
        self.host: str = options["host"]
        self.port: int = options["port"]
        self.username: str = options["username"]
        self.password: str = options["password"]
        self.use_ssl: bool = options["use_ssl"]
        self.use_tls: bool = options["use_tls"]
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.use_ssl:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.use_tls:
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                login(client, self.username, self.password)
        except BaseException:  # a refused STARTTLS or login must not leave the socket open
            client.close()
            raise
        return client

    def try_connection(self) -> None:
        """Connect, secure, log in and say QUIT, raising what smtplib raises: what a settings
        page checks before it saves a server."""
        self._connect().quit()

    def send(self, mail_from: str, recipient: str, data: bytes) -> Answer:
        """Hand one message over; never raises for what a server or network may do."""
        try:
            if self._client is None:
                self._client = self._connect()
            refused = self._client.sendmail(mail_from, [recipient], data)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients.get(recipient, (550, b"recipient refused"))
            return Answer.from_code(code, text)
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, …
            if error.smtp_code in (421,):
                self._drop()
            return Answer.from_code(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPException, OSError) as error:  # dropped line, timeout, refused TCP
            self._drop()
            return Answer(Outcome.RETRY, None, f"{type(error).__name__}: {error}"[:300])
        if refused:
            code, text = refused[recipient]
            return Answer.from_code(code, text)
        return Answer(Outcome.ACCEPTED, 250, "OK")

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
