"""Read side of tracking: one campaign's opens and clicks, unique and total, people apart from
machines (contract item 1). Reports and dashboards (the analytics app) may read the events
themselves; this is the reference reading of them.

- *unique* counts messages (deliveries), *total* counts events;
- opens implied by a click (images blocked) count as human opens, once per message;
- machine opens and scanner clicks are counted apart and never in the human figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.fields.json import KeyTextTransform

from rapport.crm.models import Event, EventType


@dataclass(frozen=True, slots=True)
class Engagement:
    unique_opens: int
    total_opens: int
    machine_opens: int
    unique_clicks: int
    total_clicks: int
    scanner_clicks: int
    clicks_by_url: dict[str, int]  # human clicks per target


def campaign_engagement(campaign_id: int) -> Engagement:
    """Every opened event carries ``machine`` and every clicked one ``scanner`` (true or
    false), so plain JSON equality splits them with no NULL surprises on either database."""
    events = Event.objects.filter(campaign_id=campaign_id).annotate(
        delivery=KeyTextTransform("delivery", "data")
    )
    opens = events.filter(type=EventType.OPENED).aggregate(
        unique=Count("delivery", distinct=True, filter=Q(data__machine=False)),
        total=Count("pk", filter=Q(data__machine=False)),
        machine=Count("pk", filter=Q(data__machine=True)),
    )
    clicks = events.filter(type=EventType.CLICKED).aggregate(
        unique=Count("delivery", distinct=True, filter=Q(data__scanner=False)),
        total=Count("pk", filter=Q(data__scanner=False)),
        scanner=Count("pk", filter=Q(data__scanner=True)),
    )
    by_url = (
        events.filter(type=EventType.CLICKED, data__scanner=False)
        .annotate(url=KeyTextTransform("url", "data"))
        .values("url")
        .annotate(clicks=Count("pk"))
        .order_by("-clicks", "url")
    )
    return Engagement(
        unique_opens=opens["unique"],
        total_opens=opens["total"],
        machine_opens=opens["machine"],
        unique_clicks=clicks["unique"],
        total_clicks=clicks["total"],
        scanner_clicks=clicks["scanner"],
        clicks_by_url={row["url"]: row["clicks"] for row in by_url},
    )
