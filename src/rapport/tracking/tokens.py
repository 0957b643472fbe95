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

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

from django.conf import settings

OPEN = "o"
CLICK = "c"
_SIGNATURE_BYTES = 12
_FIELDS = 5


@dataclass(frozen=True, slots=True)
class HitToken:
    delivery: int
    contact: int
    campaign: int
    link: int  # 0 for the open pixel
    sent_at: int  # Unix seconds when the message was built


@cache
def _keyed_mac(secret: str) -> hmac.HMAC:
    """The key absorbed once (a domain of its own, apart from other signed links); copying
    the keyed state is cheaper than keying anew for each of a message's links."""
    key = hashlib.sha256(b"rapport.tracking.hits:" + secret.encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _signature(kind: str, payload: str) -> str:
    mac = _keyed_mac(settings.SECRET_KEY).copy()
    mac.update(f"{kind}|{payload}".encode())
    return base64.urlsafe_b64encode(mac.digest()[:_SIGNATURE_BYTES]).decode("ascii")


def make_token(kind: str, token: HitToken) -> str:
    payload = f"{token.delivery}.{token.contact}.{token.campaign}.{token.link}.{token.sent_at}"
    return f"{payload}.{_signature(kind, payload)}"


def read_token(kind: str, token: str) -> HitToken | None:
    """The token's fields when it is genuine for this kind of hit, else None."""
    payload, _, signature = token.rpartition(".")
    numbers = payload.split(".")
    if len(numbers) != _FIELDS or not all(n.isdigit() and n.isascii() for n in numbers):
        return None
    if not hmac.compare_digest(signature.encode(), _signature(kind, payload).encode()):
        return None
    delivery, contact, campaign, link, sent_at = (int(n) for n in numbers)
    if (kind == OPEN) != (link == 0):
        return None
    return HitToken(delivery, contact, campaign, link, sent_at)


def hit_url(kind: str, token: HitToken, *, base_url: str | None = None) -> str:
    base = settings.BASE_URL if base_url is None else base_url
    return f"{base}/t/{kind}/{make_token(kind, token)}"
