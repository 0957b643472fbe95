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
def _key() -> bytes:
    return hashlib.sha256(b"rapport.content.links:" + settings.SECRET_KEY.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signature(kind: str, payload: str) -> str:
    mac = hmac.new(_key(), f"{kind}|{payload}".encode(), hashlib.sha256).digest()
    return _b64(mac[:_SIGNATURE_BYTES])


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


def contact_link(kind: str, contact_id: int, source: str) -> str:
    return f"{settings.BASE_URL}/e/{kind}/{make_token(kind, contact_id, source)}"
