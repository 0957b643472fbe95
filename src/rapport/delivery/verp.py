"""VERP return paths: the envelope sender of each message names its delivery, signed, so a
bounce that comes back (to ``bounces+<id>-<sig>@domain``) is matched to the exact delivery even
when the bounce report itself cannot be parsed.

The mailto target of ``List-Unsubscribe`` (``unsubscribe+<id>-<sig>@domain``) works the same
way, with a signature of its own: a bounce address cannot be turned into an unsubscribe. Both
are lower-case hex, since some servers lower-case the local part."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import cache

from django.conf import settings

_LOCAL = {
    prefix: re.compile(rf"(?:^|[<\s]){prefix}\+(\d+)-([0-9a-z]{{10}})@", re.IGNORECASE)
    for prefix in ("bounces", "unsubscribe")
}


@cache
def _key(prefix: str) -> bytes:
    purpose = b"rapport.delivery.verp:" if prefix == "bounces" else b"rapport.delivery.mailto:"
    return hashlib.sha256(purpose + settings.SECRET_KEY.encode()).digest()


def _signature(delivery_id: int, prefix: str = "bounces") -> str:
    digest = hmac.new(_key(prefix), str(delivery_id).encode(), hashlib.sha256).hexdigest()
    return digest[:10]


def return_path(delivery_id: int, domain: str) -> str:
    return f"bounces+{delivery_id}-{_signature(delivery_id)}@{domain}"


def unsubscribe_address(delivery_id: int, domain: str) -> str:
    return f"unsubscribe+{delivery_id}-{_signature(delivery_id, 'unsubscribe')}@{domain}"


def delivery_of(address: str, prefix: str = "bounces") -> int | None:
    """The delivery a bounce (or, with ``prefix="unsubscribe"``, an unsubscribe) address
    names, when its signature is right."""
    match = _LOCAL[prefix].search(address)
    if match is None:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), _signature(delivery_id, prefix)):
        return None
    return delivery_id
