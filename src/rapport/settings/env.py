"""Typed reads of the ``RAPPORT_*`` environment.

Only what must be known before the database opens lives here (database URL, secret key,
listen address, task backend). Everything a user edits lives in the database.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(RuntimeError):
    """A ``RAPPORT_*`` variable holds a value we cannot use; the message names it."""


def env_str(name: str, default: str) -> str:
    """The variable's value; unset or empty means the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json_object(name: str) -> dict[str, Any]:
    """A JSON object, e.g. ``RAPPORT_ANYMAIL='{"MAILGUN_API_KEY": "…"}'``; unset means {}."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{name} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ConfigError(f'{name} must be a JSON object ({{"KEY": "value"}}).')
    return value


def email_provider(name: str) -> str:
    """An anymail backend's name (``mailgun``, ``amazon_ses``, …), checked to exist; "" for
    SMTP."""
    provider = os.environ.get(name, "").strip().lower()
    if not provider:
        return ""
    if not provider.replace("_", "").isalnum() or not importlib.util.find_spec(
        f"anymail.backends.{provider}"
    ):
        raise ConfigError(
            f"{name}={provider!r} is not a django-anymail provider (e.g. amazon_ses, mailgun, "
            "postmark, sendgrid, sparkpost, brevo, mailjet, resend)."
        )
    return provider


def data_dir() -> Path:
    """Where the embedded database, uploads and keys live (``./var`` by default)."""
    path = Path(env_str("RAPPORT_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """The key from ``RAPPORT_SECRET_KEY``, else one generated once and kept in the data dir.

    A generated key survives restarts, so sessions and signed links stay valid.
    """
    configured = os.environ.get("RAPPORT_SECRET_KEY")
    if configured:
        return configured
    key_file = directory / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


_LIMITS = {"connections": int, "per_domain": int, "rate": float, "backlog": int}


def smtp_limits(url: str) -> dict[str, Any]:
    """Sending limits from the same URL's query: ``connections`` (persistent connections per
    worker), ``per_domain`` (in flight to one recipient domain), ``rate`` (messages a second
    per worker), e.g. ``smtp://relay:587?starttls=1&connections=8&rate=14``."""
    limits: dict[str, Any] = {}
    for key, values in parse_qs(urlsplit(url).query).items():
        if key not in _LIMITS:
            continue
        try:
            limits[key] = _LIMITS[key](values[-1])
        except ValueError:
            raise ConfigError(f"RAPPORT_SMTP_URL: {key}={values[-1]!r} is not a number") from None
        if limits[key] < (0 if key in ("rate", "backlog") else 1):
            raise ConfigError(f"RAPPORT_SMTP_URL: {key}={values[-1]!r} is out of range")
    return limits


def imap_mailbox(url: str) -> dict[str, Any] | None:
    """``imap://user:pass@host:port/FOLDER?starttls=1`` (``imaps://`` for TLS from the first
    byte; ``processed=`` names the folder read bounces go to) as ``MailboxSettings`` fields;
    None when the URL is empty (no bounce mailbox: bounces only come from webhooks)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"imap", "imaps"} or not parts.hostname or not parts.username:
        raise ConfigError(
            f"RAPPORT_BOUNCE_IMAP_URL={url!r} is not imap://user:password@host:port/FOLDER "
            "or imaps://…"
        )
    query = parse_qs(parts.query)
    secure = parts.scheme == "imaps"
    mailbox: dict[str, Any] = {
        "host": parts.hostname,
        "port": parts.port or (993 if secure else 143),
        "username": unquote(parts.username),
        "password": unquote(parts.password or ""),
        "use_ssl": secure,
        "use_tls": not secure and query.get("starttls", ["0"])[0] in {"1", "true", "yes"},
        "folder": unquote(parts.path.lstrip("/")) or "INBOX",
    }
    if "processed" in query:
        mailbox["processed"] = query["processed"][-1]
    return mailbox


def smtp_mailer(url: str) -> dict[str, object]:
    """A Django ``MAILERS`` entry from ``smtp://user:pass@host:port?starttls=1`` (``smtps://``
    for TLS from the first byte). Percent-escapes in the user and password are decoded."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(f"RAPPORT_SMTP_URL={url!r} is not smtp://host:port or smtps://host:port")
    query = parse_qs(parts.query)
    secure = parts.scheme == "smtps"
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": parts.port or (465 if secure else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": secure,
            "use_tls": not secure and query.get("starttls", ["0"])[0] in {"1", "true", "yes"},
            "timeout": 30,
        },
    }
