"""SMTP servers added in the UI, which take over from ``RAPPORT_SMTP_URL``.

A server is checked before it is saved (connect, STARTTLS, log in, say QUIT), so a typo shows
up as a clear message on the form and not as a campaign full of deferred rows. Its password is
encrypted with Fernet under a key derived from the secret key: a database dump alone does not
give it away. If the secret key changes, the password cannot be read back and the person is
asked to enter it again.
"""

from __future__ import annotations

import base64
import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlencode

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.delivery.models import SmtpSecurity, SmtpServer
from rapport.delivery.transport import SmtpTransport
from rapport.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class ServerInput:
    name: str
    host: str
    port: int
    security: str = SmtpSecurity.STARTTLS
    username: str = ""
    password: str = ""  # empty on an edit: keep the stored one
    connections: int = 4
    per_domain: int = 4
    rate: float = 0.0


@cache
def _fernet() -> Fernet:
    digest = hashlib.sha256(b"rapport.delivery.smtp-password:" + settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def _encrypt(password: str) -> bytes:
    return _fernet().encrypt(password.encode()) if password else b""


def _decrypt(server: SmtpServer) -> str:
    token = bytes(server.password_encrypted or b"")
    if not token:
        return ""
    try:
        return _fernet().decrypt(token).decode()
    except InvalidToken:
        raise Conflict(
            f"The password of the SMTP server {server.name!r} cannot be read (the secret key "
            "changed since it was saved); enter it again."
        ) from None


def server_url(server: SmtpServer) -> str:
    """The server as the URL the transport and the pool limits are read from."""
    scheme = "smtps" if server.security == SmtpSecurity.TLS else "smtp"
    credentials = ""
    if server.username:
        credentials = f"{quote(server.username, safe='')}:{quote(_decrypt(server), safe='')}@"
    query = {"connections": server.connections, "per_domain": server.per_domain}
    if server.rate:
        query["rate"] = server.rate  # type: ignore[assignment]
    if server.security == SmtpSecurity.STARTTLS:
        query["starttls"] = 1
    return f"{scheme}://{credentials}{server.host}:{server.port}?{urlencode(query)}"


def sending_url() -> str:
    """The server campaigns go to: the active one from the UI, else ``RAPPORT_SMTP_URL``."""
    active = SmtpServer.objects.filter(active=True).first()
    return server_url(active) if active is not None else str(settings.SMTP_URL)


def _checked(data: ServerInput) -> ServerInput:
    name, host = data.name.strip(), data.host.strip().lower()
    if not name:
        raise InvalidInput("Give the server a name, e.g. “Company relay”.", field="name")
    if not host or any(c.isspace() for c in host) or "/" in host:
        raise InvalidInput(f"{data.host!r} is not a host name or address.", field="host")
    if not 1 <= data.port <= 65535:
        raise InvalidInput(f"{data.port} is not a port number (1-65535).", field="port")
    if data.security not in SmtpSecurity.values:
        raise InvalidInput(f"{data.security!r} is not a security setting.", field="security")
    if data.security == SmtpSecurity.NONE and data.username:
        raise InvalidInput(
            "A password must not travel unencrypted: choose STARTTLS or TLS.", field="security"
        )
    if not 1 <= data.connections <= 50 or not 1 <= data.per_domain <= 50:
        raise InvalidInput("Connections must be between 1 and 50.", field="connections")
    if data.rate < 0:
        raise InvalidInput("The rate cannot be negative.", field="rate")
    return ServerInput(
        name, host, data.port, data.security, data.username.strip(), data.password,
        data.connections, data.per_domain, data.rate,
    )  # fmt: skip


def try_server(server: SmtpServer, *, timeout: float = 15.0) -> None:
    """Connect, secure, log in and quit; ``InvalidInput`` saying what went wrong."""
    where = f"{server.host}:{server.port}"
    try:
        SmtpTransport(server_url(server), timeout=timeout).try_connection()
    except smtplib.SMTPAuthenticationError as error:
        said = error.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else said
        raise InvalidInput(
            f"{where} refused the user name or password: {error.smtp_code} {text}",
            field="password",
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        raise InvalidInput(f"{where} does not support this: {error}", field="security") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
        raise InvalidInput(f"Cannot use {where}: {error}", field="host") from None


@transaction.atomic
def save_server(
    data: ServerInput, *, server_id: int | None = None, check: bool = True, acting_user: User
) -> SmtpServer:
    """Add or change a server, after trying it unless ``check`` is off."""
    require(acting_user, Perm.MANAGE_SENDING)
    data = _checked(data)
    server = SmtpServer() if server_id is None else _get(server_id)
    if SmtpServer.objects.filter(name=data.name).exclude(pk=server.pk).exists():
        raise Conflict(f"There is already a server called {data.name!r}.")
    server.name, server.host, server.port = data.name, data.host, data.port
    server.security, server.username = data.security, data.username
    server.connections, server.per_domain, server.rate = (
        data.connections, data.per_domain, data.rate,
    )  # fmt: skip
    if data.password or not data.username:
        server.password_encrypted = _encrypt(data.password)
    if check:
        try_server(server)
    server.save()
    record_audit(
        acting_user,
        "smtp_server.save",
        target_type="smtp_server",
        target_id=server.pk,
        detail={"host": server.host, "port": server.port},
    )
    return server


@transaction.atomic
def use_server(server_id: int | None, *, acting_user: User) -> None:
    """Make this server the one campaigns go to; None goes back to ``RAPPORT_SMTP_URL``."""
    require(acting_user, Perm.MANAGE_SENDING)
    SmtpServer.objects.filter(active=True).update(active=False)
    if server_id is not None:
        server = _get(server_id)
        server.active = True
        server.save(update_fields=["active"])
    record_audit(acting_user, "smtp_server.use", target_type="smtp_server", target_id=server_id)


def delete_server(server_id: int, *, acting_user: User) -> None:
    require(acting_user, Perm.MANAGE_SENDING)
    _get(server_id).delete()
    record_audit(acting_user, "smtp_server.delete", target_type="smtp_server", target_id=server_id)


def _get(server_id: int) -> SmtpServer:
    server = SmtpServer.objects.filter(pk=server_id).first()
    if server is None:
        raise NotFound(f"There is no SMTP server {server_id}.")
    return server
