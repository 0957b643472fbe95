"""The newsletter history: two years of monthly campaigns and how each contact took them.

Campaign ids are plain integers (1 to 24, oldest first) until campaigns are in the database.
Engagement is personal: each contact draws an open rate and a click rate, so a few open
everything and many open nothing, as on a real list.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from rapport.demo import catalogue as cat

DAY = 86_400
CAMPAIGNS = 24  # monthly newsletters, campaign 1 the oldest
# (time, event type, campaign id, data as JSON, order position in the batch)
Timeline = list[tuple[int, str, int | None, str, int | None]]

_CLICK_DATA = tuple(
    json.dumps({"url": f"https://shop.example.com/{path}"})
    for path in ("new-arrivals", "sale", "blog/buying-guide", "collections/bestsellers", "account")
)
_HARD_BOUNCE = json.dumps({"kind": "hard", "reason": "550 5.1.1 mailbox unavailable"})
_SOFT_BOUNCE = json.dumps({"kind": "soft", "reason": "452 4.2.2 mailbox full"})


def campaign_times(anchor: int) -> tuple[int, ...]:
    """Send time of each newsletter (index 0 is campaign 1): monthly at 02:00 UTC, the last
    about two weeks before ``anchor`` so that its opens and clicks are in the past too."""
    times = []
    for number in range(1, CAMPAIGNS + 1):
        day = (anchor - int((CAMPAIGNS - number + 0.5) * 30.44 * DAY)) // DAY
        times.append(day * DAY + 2 * 3600)
    return tuple(times)


def campaign_topic(number: int) -> str | None:
    """Every sixth newsletter goes to everyone; the others to one interest."""
    return None if number % 6 == 0 else cat.INTERESTS[number % len(cat.INTERESTS)]


def email_history(
    rng: random.Random,
    sends: Sequence[int],
    topics: Sequence[str | None],
    *,
    anchor: int,
    number: int,
    consent_at: int,
    interests: list[str],
    status: str,
    timeline: Timeline,
) -> tuple[str, int]:
    """Append the contact's newsletter events up to its status; return the status and when
    it last changed. Nothing is sent after an unsubscribe, bounce or complaint; these need
    an email to happen on, so a contact who received none stays subscribed (or left through
    the preference centre)."""
    received = [
        n
        for n in range(CAMPAIGNS)
        if sends[n] > consent_at and (topics[n] is None or topics[n] in interests)
    ]
    if not received:
        if status == "unsubscribed":
            when = consent_at + rng.randrange(max(1, anchor - consent_at - 60))
            timeline.append((when, "unsubscribed", None, "{}", None))
            return status, when
        return "subscribed", consent_at
    stop = rng.choice(received) if status != "subscribed" else -1
    open_rate = rng.betavariate(1.1, 1.9)
    click_rate = rng.betavariate(1.0, 5.0)
    for n in received:
        campaign = n + 1
        sent = sends[n] + number * 7 % 5400  # a big list takes a while to send
        timeline.append((sent, "sent", campaign, "{}", None))
        if n == stop and status == "bounced":
            timeline.append((sent + rng.randint(2, 60), "bounced", campaign, _HARD_BOUNCE, None))
            return status, sent + 60
        if rng.random() < 0.01:
            timeline.append((sent + rng.randint(2, 600), "bounced", campaign, _SOFT_BOUNCE, None))
            continue
        delivered = sent + rng.randint(1, 30)
        timeline.append((delivered, "delivered", campaign, "{}", None))
        if n == stop and status == "complained":
            when = delivered + rng.randint(600, 2 * DAY)
            timeline.append((when, "complained", campaign, "{}", None))
            return status, when
        if rng.random() < open_rate or n == stop:
            opened = delivered + min(6 * DAY, int(rng.expovariate(1 / (5 * 3600))))
            timeline.append((opened, "opened", campaign, "{}", None))
            if n != stop and rng.random() < 0.2:
                again = opened + rng.randint(600, DAY)
                timeline.append((again, "opened", campaign, "{}", None))
            if n == stop:
                when = opened + rng.randint(10, 300)
                timeline.append((when, "unsubscribed", campaign, "{}", None))
                return status, when
            if rng.random() < click_rate:
                click = opened + rng.randint(5, 900)
                timeline.append((click, "clicked", campaign, rng.choice(_CLICK_DATA), None))
    return status, consent_at
