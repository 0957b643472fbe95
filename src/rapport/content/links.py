"""Signed per-contact links: unsubscribe, preferences and view-online.

A token names the contact and what sent the email ("campaign:12"), with an HMAC so that
nobody can unsubscribe or read someone else by editing a number. No database row per link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from django.conf import settings

LINK_KINDS = frozenset({"unsubscribe", "preferences", "view"})
_SIGNATURE_BYTES = 12


@cache
def _keyed_mac() -> hmac.HMAC:
    """An HMAC with the key already absorbed; copying it is cheaper than keying a new one,
    and a send signs two or three links per message."""
    key = hashlib.sha256(b"rapport.content.links:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signature(kind: str, payload: str) -> str:
    mac = _keyed_mac().copy()
    mac.update(f"{kind}|{payload}".encode())
    return _b64(mac.digest()[:_SIGNATURE_BYTES])


def make_token(kind: str, contact_id: int, source: str) -> str:
    payload = f"{contact_id}.{source}"
    return f"{_b64(payload.encode())}.{_signature(kind, payload)}"


def read_token(kind: str, token: str) -> tuple[int, str] | None:
    """``(contact_id, source)`` when the token is genuine for this kind of link, else None."""
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _signature(kind, payload)):
        return None
    contact, _, source = payload.partition(".")
    return (int(contact), source) if contact.isdigit() else None


def contact_link(kind: str, contact_id: int, source: str, *, base_url: str | None = None) -> str:
    base = settings.BASE_URL if base_url is None else base_url
    return f"{base}/e/{kind}/{make_token(kind, contact_id, source)}"
