"""VERP return paths: the envelope sender of each message names its delivery, signed, so a
bounce that comes back (to ``bounces+<id>-<sig>@domain``) is matched to the exact delivery even
when the bounce report itself cannot be parsed."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import cache

from django.conf import settings

_LOCAL = re.compile(r"bounces\+(\d+)-([0-9a-z]{10})@", re.IGNORECASE)


@cache
def _key() -> bytes:
    return hashlib.sha256(b"rapport.delivery.verp:" + settings.SECRET_KEY.encode()).digest()


def _signature(delivery_id: int) -> str:
    digest = hmac.new(_key(), str(delivery_id).encode(), hashlib.sha256).hexdigest()
    return digest[:10]


def return_path(delivery_id: int, domain: str) -> str:
    return f"bounces+{delivery_id}-{_signature(delivery_id)}@{domain}"


def delivery_of(address: str) -> int | None:
    """The delivery a bounce address names, when its signature is right."""
    match = _LOCAL.search(address)
    if match is None:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), _signature(delivery_id)):
        return None
    return delivery_id
