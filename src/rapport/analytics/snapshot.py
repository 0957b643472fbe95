"""Snapshots of what the Delivery table says about a campaign: counts per state, and sent and
bounced per recipient domain, per audience segment and per day.

Deliveries change state after they are written, so they cannot be absorbed like events; a
grouped count over a million rows (and a join with contacts for the domains) costs seconds,
so it is taken once and kept. A snapshot is *final* when the campaign is over and nothing is
in flight; it is taken again when the campaign's bounce reports change, or after half an
hour (the segments' opens and clicks keep coming). A live campaign's snapshot is at most a
minute old on a small campaign (taken again on read), a few minutes on a large one (taken by
a background task and the scheduler, never inside a page request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.utils import timezone

from rapport.analytics.models import DeliverySnapshot, EngagementFact, SnapshotRow
from rapport.campaigns.models import Campaign, CampaignAudience, CampaignState
from rapport.delivery.models import Bounce, BounceKind, Delivery, DeliveryState
from rapport.segments.queries import segment_queryset

IN_FLIGHT = (
    DeliveryState.QUEUED,
    DeliveryState.CLAIMED,
    DeliveryState.SENDING,
    DeliveryState.DEFERRED,
)
BOUNCES = (BounceKind.HARD, BounceKind.SOFT)
LIVE_LIMIT = 20_000  # recipients up to which a stale snapshot is retaken inside the request
FRESH_WHILE_SENDING = dt.timedelta(minutes=1)
FRESH_WHEN_FINAL = dt.timedelta(minutes=30)
TOP_DOMAINS = 30
OTHER = "(other)"


def _bounced() -> Q:
    """A message that did not arrive: refused or given up (failed), or reported back."""
    return Q(state=DeliveryState.FAILED) | Q(has_bounce=True)


@transaction.atomic
def refresh_snapshot(campaign_id: int, *, now: dt.datetime | None = None) -> DeliverySnapshot:
    """Take the campaign's snapshot again (idempotent; the rows are replaced whole)."""
    now = now or timezone.now()
    deliveries = Delivery.objects.filter(campaign_id=campaign_id)
    by_state: dict[str, int] = {}
    capped = 0
    for state, count, held in (
        deliveries.values_list("state")
        .annotate(n=Count("pk"), held=Count("pk", filter=Q(was_capped=True)))
        .values_list("state", "n", "held")
    ):
        by_state[state] = count
        capped += held
    campaign = Campaign.objects.filter(pk=campaign_id).values_list("state", flat=True).first()
    pending = sum(by_state.get(state, 0) for state in IN_FLIGHT)
    over = campaign in (CampaignState.SENT, CampaignState.CANCELLED, None)
    snapshot, _ = DeliverySnapshot.objects.update_or_create(
        campaign_id=campaign_id,
        defaults={
            "computed_at": now,
            "final": over and pending == 0,
            "recipients": sum(by_state.values()),
            "sent": by_state.get(DeliveryState.SENT, 0),
            "failed": by_state.get(DeliveryState.FAILED, 0),
            "skipped": by_state.get(DeliveryState.SKIPPED, 0)
            + by_state.get(DeliveryState.CAPPED, 0),
            "unknown": by_state.get(DeliveryState.UNKNOWN, 0),
            "pending": pending,
            "capped": capped,
            "bounce_reports": Bounce.objects.filter(campaign_id=campaign_id).count(),
        },
    )
    SnapshotRow.objects.filter(campaign_id=campaign_id).delete()
    SnapshotRow.objects.bulk_create(
        [*_domain_rows(campaign_id), *_segment_rows(campaign_id), *_day_rows(campaign_id)]
    )
    return snapshot


def _finished(campaign_id: int) -> QuerySet[Delivery]:
    """Messages whose hand-off is over (accepted or refused), each with "a bounce came back"."""
    bounce = Bounce.objects.filter(delivery=OuterRef("pk"), kind__in=BOUNCES)
    return Delivery.objects.filter(
        campaign_id=campaign_id, state__in=(DeliveryState.SENT, DeliveryState.FAILED)
    ).annotate(has_bounce=Exists(bounce))


def _domain_rows(campaign_id: int) -> list[SnapshotRow]:
    email = F("contact__email")
    rows = (
        _finished(campaign_id)
        .annotate(domain=Substr(email, StrIndex(email, Value("@")) + 1))
        .values("domain")
        .annotate(sent=Count("pk"), bounced=Count("pk", filter=_bounced()))
        .order_by("-sent", "domain")
    )
    found = [(row["domain"] or "", row["sent"], row["bounced"]) for row in rows]
    top = found[:TOP_DOMAINS]
    rest = found[TOP_DOMAINS:]
    if rest:
        top.append((OTHER, sum(r[1] for r in rest), sum(r[2] for r in rest)))
    return [
        SnapshotRow(
            campaign_id=campaign_id,
            dimension="domain",
            key=domain[:253],
            sent=sent,
            bounced=bounced,
        )
        for domain, sent, bounced in top
    ]


def _segment_rows(campaign_id: int) -> list[SnapshotRow]:
    """Each segment the campaign went to, by its members now (a dynamic segment's members
    change; what it was at send time is not kept)."""
    rows = []
    audience = CampaignAudience.objects.filter(campaign_id=campaign_id, exclude=False)
    for member in audience.select_related("segment"):
        contacts = segment_queryset(member.segment).values("pk")
        counts = (
            _finished(campaign_id)
            .filter(contact_id__in=contacts)
            .aggregate(sent=Count("pk"), bounced=Count("pk", filter=_bounced()))
        )
        engaged = EngagementFact.objects.filter(
            campaign_id=campaign_id, contact_id__in=contacts
        ).aggregate(
            openers=Count(
                "pk", filter=Q(first_open_at__isnull=False) | Q(first_click_at__isnull=False)
            ),
            clickers=Count("pk", filter=Q(first_click_at__isnull=False)),
        )
        rows.append(
            SnapshotRow(
                campaign_id=campaign_id,
                dimension="segment",
                key=str(member.segment_id),
                label=member.segment.name[:200],
                sent=counts["sent"],
                bounced=counts["bounced"],
                openers=engaged["openers"],
                clickers=engaged["clickers"],
            )
        )
    return rows


def _day_rows(campaign_id: int) -> list[SnapshotRow]:
    rows = (
        Delivery.objects.filter(campaign_id=campaign_id, state=DeliveryState.SENT)
        .exclude(sent_at=None)
        .annotate(day=TruncDate("sent_at"))
        .values("day")
        .annotate(n=Count("pk"))
    )
    return [
        SnapshotRow(
            campaign_id=campaign_id, dimension="day", key=row["day"].isoformat(), sent=row["n"]
        )
        for row in rows
    ]


def _stale(snapshot: DeliverySnapshot, bounce_reports: int, now: dt.datetime) -> bool:
    if snapshot.bounce_reports != bounce_reports:
        return True
    fresh_for = FRESH_WHEN_FINAL if snapshot.final else FRESH_WHILE_SENDING
    return snapshot.computed_at < now - fresh_for


def current_snapshots(
    campaign_ids: Sequence[int], *, now: dt.datetime | None = None
) -> dict[int, DeliverySnapshot]:
    """The snapshots of these campaigns, retaken first where stale and small enough; a large
    stale one is handed to a background task (at most one queued per five minutes) and the
    last one is returned, with its ``computed_at``."""
    from rapport.analytics.tasks import refresh_campaign_snapshot  # noqa: PLC0415 - tasks import us

    now = now or timezone.now()
    found = {
        s.campaign_id: s for s in DeliverySnapshot.objects.filter(campaign_id__in=campaign_ids)
    }
    reports = dict(
        Bounce.objects.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "n")
    )
    for campaign_id in campaign_ids:
        snapshot = found.get(campaign_id)
        if snapshot is not None and not _stale(snapshot, reports.get(campaign_id, 0), now):
            continue
        if snapshot is None or snapshot.recipients <= LIVE_LIMIT:
            found[campaign_id] = refresh_snapshot(campaign_id, now=now)
        elif cache.add(f"analytics:snapshot:{campaign_id}", True, timeout=300):
            refresh_campaign_snapshot.enqueue(campaign_id)
    return found


def refresh_live_snapshots(now: dt.datetime) -> int:
    """The scheduler's part: retake every snapshot that is not final and older than the
    freshness a sending campaign gets, whatever its size. Returns how many."""
    stale = DeliverySnapshot.objects.filter(final=False, computed_at__lt=now - FRESH_WHILE_SENDING)
    ids = list(stale.values_list("campaign_id", flat=True))
    sending = Campaign.objects.filter(state=CampaignState.SENDING).exclude(
        pk__in=DeliverySnapshot.objects.values("campaign_id")
    )
    ids += list(sending.values_list("pk", flat=True))
    for campaign_id in ids:
        refresh_snapshot(campaign_id, now=now)
    return len(ids)
