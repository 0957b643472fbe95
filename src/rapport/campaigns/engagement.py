"""Which events are a person's engagement, as the tracking contract defines them.

Opens and clicks are ``crm.Event`` rows; a privacy proxy's or security gateway's open carries
``data["machine"] = true`` and a security scanner's click ``data["scanner"] = true``. Those are
stored but are never engagement: a test or a learned send hour built on them would measure the
gateways, not the people. An event without the key is a person's.
"""

from __future__ import annotations

from django.db.models import Q

from rapport.crm.models import EventType


def _not_flagged(key: str) -> Q:
    # Spelled out, not ~Q(data__key=True): a negated JSON lookup must also keep the rows that
    # lack the key, and the databases disagree on NULL there.
    return Q(**{f"data__{key}": False}) | ~Q(data__has_key=key)


def human_opens() -> Q:
    return Q(type=EventType.OPENED) & _not_flagged("machine")


def human_clicks() -> Q:
    return Q(type=EventType.CLICKED) & _not_flagged("scanner")


def human_engagement() -> Q:
    return human_opens() | human_clicks()
