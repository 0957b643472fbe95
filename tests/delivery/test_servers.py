"""SMTP servers added in the UI: tried before they are saved (STARTTLS and AUTH against a real
server with its own certificate), passwords encrypted at rest, and the one in use takes over
from RAPPORT_SMTP_URL for campaigns."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rapport.accounts.roles import Role
from rapport.delivery.models import SmtpServer
from rapport.delivery.pipeline import default_pool
from rapport.delivery.servers import (
    ServerInput,
    _fernet,
    save_server,
    sending_url,
    server_url,
    use_server,
)
from rapport.errors import Conflict, InvalidInput, PermissionDenied
from tests.factories import make_user
from tests.smtp_server import ScriptedHandler, smtp_server
from tools.with_postgres import free_port

pytestmark = pytest.mark.django_db


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """aiosmtpd with STARTTLS required and AUTH (relay / s3cret w0rd:é); our client trusts its
    certificate through SSL_CERT_FILE, as it would trust a real CA."""
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        ok = auth.login == b"relay" and auth.password == "s3cret w0rd:é".encode()
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        ScriptedHandler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _input(port: int, **changes: Any) -> ServerInput:
    fields: dict[str, Any] = {
        "name": "Company relay",
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "username": "relay",
        "password": "s3cret w0rd:é",
    }
    fields.update(changes)
    return ServerInput(**fields)


def test_a_server_is_tried_with_starttls_and_auth_before_it_is_saved(tls_server: int) -> None:
    owner = make_user(Role.OWNER)

    server = save_server(_input(tls_server), acting_user=owner)

    assert SmtpServer.objects.get().pk == server.pk
    assert b"s3cret" not in bytes(server.password_encrypted)
    assert _fernet().decrypt(bytes(server.password_encrypted)) == "s3cret w0rd:é".encode()


def test_a_wrong_password_is_refused_with_the_servers_words_and_nothing_is_saved(
    tls_server: int,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        save_server(_input(tls_server, password="guess"), acting_user=make_user(Role.OWNER))

    assert refused.value.field == "password"
    assert "refused the user name or password: 535" in refused.value.message
    assert not SmtpServer.objects.exists()


def test_an_unreachable_server_and_a_password_in_clear_are_refused() -> None:
    owner = make_user(Role.OWNER)
    with pytest.raises(InvalidInput, match=r"Cannot use 127\.0\.0\.1:\d+") as unreachable:
        save_server(_input(free_port(), username="", password=""), acting_user=owner)
    assert unreachable.value.field == "host"
    with pytest.raises(InvalidInput, match="must not travel unencrypted"):
        save_server(_input(25, security="none"), acting_user=owner, check=False)


def test_only_admins_manage_servers() -> None:
    with pytest.raises(PermissionDenied):
        save_server(_input(25), acting_user=make_user(Role.MARKETER), check=False)


def test_the_server_in_use_takes_over_from_the_environment(settings: Any) -> None:
    owner = make_user(Role.OWNER)
    with smtp_server() as (handler, port):
        settings.SMTP_URL = "smtp://127.0.0.1:9"  # nothing listens there
        server = save_server(
            _input(port, security="none", username="", password="", connections=2),
            acting_user=owner,
        )
        assert sending_url() == "smtp://127.0.0.1:9"
        use_server(server.pk, acting_user=owner)
        assert sending_url() == server_url(server)

        with default_pool() as pool:
            pool.submit(
                1, "bounces@shop.example.com", "ann@example.com", b"Subject: hi\r\n\r\nhi\r\n"
            )
            answers = pool.drain()

        assert [a.outcome.value for _, a in answers] == ["accepted"]
        assert [r.recipient for r in handler.received] == ["ann@example.com"]
        assert pool.limits.connections == 2
        use_server(None, acting_user=owner)
        assert sending_url() == "smtp://127.0.0.1:9"


def test_a_password_saved_under_another_secret_key_asks_to_be_entered_again(
    tls_server: int, settings: Any
) -> None:
    server = save_server(_input(tls_server), acting_user=make_user(Role.OWNER))
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    _fernet.cache_clear()
    try:
        with pytest.raises(Conflict, match="enter it again"):
            server_url(server)
    finally:
        _fernet.cache_clear()
