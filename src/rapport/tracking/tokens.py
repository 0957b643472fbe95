"""Signed tracking tokens: what an open pixel or a tracked link carries.

A token names the delivery (and so the one contact it went to), the contact and campaign (so
that recording a hit needs no database read), the link (0 for the open pixel) and when the
message was built (for telling prefetches and scanners apart), followed by an HMAC-SHA256 over
all of it and the kind of hit. Changing any number breaks the signature, so a token of one
delivery cannot be replayed as another contact's, and a click token cannot be turned into
another link. The token never carries a URL: the target is read from ``tracking.Link``.

It reads ``12.34.5.6.1730000000.<signature>``: short, URL-safe, and quick to check (the
endpoints verify thousands a second).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings

OPEN = "o"
CLICK = "c"
_SIGNATURE_BYTES = 12
_FIELDS = 5
_URL_SAFE = bytes.maketrans(b"+/", b"-_")  # 12 bytes make 16 characters: no padding to strip


@dataclass(frozen=True, slots=True)
class HitToken:
    delivery: int
    contact: int
    campaign: int
    link: int  # 0 for the open pixel
    sent_at: int  # Unix seconds when the message was built


@cache
def _key(secret: str) -> bytes:
    """A key of its own (apart from other signed links), derived once per secret."""
    return hashlib.sha256(b"rapport.tracking.hits:" + secret.encode()).digest()


def signer(kind: str) -> Callable[[str], str]:
    """The signature of a payload for this kind of hit: HMAC-SHA256, 12 bytes, URL-safe. The
    key is bound once; ``hmac.digest`` is OpenSSL's one-shot HMAC. A message signs a dozen
    links and a busy endpoint checks thousands a second, so this is kept lean."""
    key = _key(settings.SECRET_KEY)
    prefix = f"{kind}|".encode()
    digest = hmac.digest
    b64 = binascii.b2a_base64

    def sign(payload: str) -> str:
        mac = digest(key, prefix + payload.encode(), "sha256")[:_SIGNATURE_BYTES]
        return b64(mac, newline=False).translate(_URL_SAFE).decode("ascii")

    return sign


def signature(kind: str, payload: str) -> str:
    return signer(kind)(payload)


def make_token(kind: str, token: HitToken) -> str:
    payload = f"{token.delivery}.{token.contact}.{token.campaign}.{token.link}.{token.sent_at}"
    return f"{payload}.{signature(kind, payload)}"


def read_token(kind: str, token: str) -> HitToken | None:
    """The token's fields when it is genuine for this kind of hit, else None."""
    payload, _, given = token.rpartition(".")
    numbers = payload.split(".")
    if len(numbers) != _FIELDS or not all(n.isdigit() and n.isascii() for n in numbers):
        return None
    if not hmac.compare_digest(given.encode(), signature(kind, payload).encode()):
        return None
    delivery, contact, campaign, link, sent_at = (int(n) for n in numbers)
    if (kind == OPEN) != (link == 0):
        return None
    return HitToken(delivery, contact, campaign, link, sent_at)


def hit_url(kind: str, token: HitToken, *, base_url: str | None = None) -> str:
    base = settings.BASE_URL if base_url is None else base_url
    return f"{base}/t/{kind}/{make_token(kind, token)}"
