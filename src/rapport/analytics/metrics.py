"""A campaign's numbers and the honest rates made from them, for any set of campaigns.

Definitions (each one a choice; the reasons are here so that reports never disagree):

- **sent**: messages whose hand-off is over: accepted by the receiving server (250) or
  refused/given up. Queued, deferred, skipped and capped rows are not sent (yet).
- **bounced**: sent messages that did not arrive: a hard or soft report came back (or the
  server refused the hand-off, which delivery records as a hard bounce), or they failed for
  another reason (counted as soft). A message with both a soft and a hard report is hard.
- **delivered** = sent − bounced. Every engagement rate is per delivered message: a bounced
  message could not have been opened.
- **opened**: contacts with a human open *or a human click*: a click proves the email was
  read, with images (and so the open pixel) blocked. ``openers_by_click`` says how many were
  known only by their click. Machine opens (privacy proxies, prefetching gateways) and
  scanner clicks never count as engagement; they are reported apart.
- **click-to-open** = clicked / opened; **conversion rate** = contacts with an order
  attributed to the email / delivered.
- **revenue** is kept per currency (a shop may sell in CNY and USD, and there is no honest
  single total); **revenue per email** is each currency's revenue / delivered.

For a set of campaigns (an automation's emails) counts are added: a contact who received two
of its emails counts once per email, which is what "per email" rates mean.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.db.models import Count, Sum

from rapport.analytics.absorb import absorb_events
from rapport.analytics.models import CampaignRollup, DeliverySnapshot
from rapport.analytics.snapshot import BOUNCES, current_snapshots
from rapport.crm.models import Event, EventType
from rapport.delivery.models import Bounce, BounceKind, DeliveryState

CENTS = Decimal("0.01")  # SQLite sums decimals without their scale: 100 for 100.00


@dataclass(frozen=True)
class Money:
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class Counts:
    """Whole numbers of one campaign, or of several added together."""

    recipients: int = 0
    sent: int = 0
    delivered: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    skipped: int = 0
    capped: int = 0
    pending: int = 0
    unknown: int = 0
    opens: int = 0
    clicks: int = 0
    machine_opens: int = 0
    scanner_clicks: int = 0
    openers: int = 0
    clickers: int = 0
    openers_by_click: int = 0
    unsubscribed: int = 0
    complained: int = 0
    converted: int = 0
    orders: int = 0
    revenue: tuple[Money, ...] = field(default=())

    @property
    def bounced(self) -> int:
        return self.bounced_hard + self.bounced_soft

    def __add__(self, other: Counts) -> Counts:
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for money in (*self.revenue, *other.revenue):
            totals[money.currency] += money.amount
        numbers = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name != "revenue"
        }
        return Counts(**numbers, revenue=_money(totals))


def _money(totals: dict[str, Decimal]) -> tuple[Money, ...]:
    return tuple(Money(currency, amount) for currency, amount in sorted(totals.items()))


def rate(part: int, whole: int) -> float | None:
    """None when there is nothing to divide by: 'no data' is not 0 %."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Metrics:
    counts: Counts
    as_of: dt.datetime | None  # the oldest delivery snapshot behind the counts

    @property
    def bounce_rate(self) -> float | None:
        return rate(self.counts.bounced, self.counts.sent)

    @property
    def open_rate(self) -> float | None:
        return rate(self.counts.openers, self.counts.delivered)

    @property
    def click_rate(self) -> float | None:
        return rate(self.counts.clickers, self.counts.delivered)

    @property
    def click_to_open(self) -> float | None:
        return rate(self.counts.clickers, self.counts.openers)

    @property
    def conversion_rate(self) -> float | None:
        return rate(self.counts.converted, self.counts.delivered)

    @property
    def unsubscribe_rate(self) -> float | None:
        return rate(self.counts.unsubscribed, self.counts.delivered)

    @property
    def complaint_rate(self) -> float | None:
        return rate(self.counts.complained, self.counts.delivered)

    @property
    def revenue_per_email(self) -> tuple[Money, ...]:
        delivered = self.counts.delivered
        if not delivered:
            return ()
        return tuple(
            Money(m.currency, (m.amount / delivered).quantize(Decimal("0.0001")))
            for m in self.counts.revenue
        )

    RATES = (
        "open_rate",
        "click_rate",
        "click_to_open",
        "conversion_rate",
        "bounce_rate",
        "unsubscribe_rate",
        "complaint_rate",
    )

    def rates(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in self.RATES}


def _bounce_split(
    campaign_ids: Sequence[int], snapshots: dict[int, DeliverySnapshot]
) -> dict[int, dict[str, int]]:
    """Per campaign: hard, soft (incl. failed without a report), and bounced among accepted."""
    reported: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
    rows = Bounce.objects.filter(
        campaign_id__in=campaign_ids,
        kind__in=BOUNCES,
        delivery__state__in=(DeliveryState.SENT, DeliveryState.FAILED),
    ).values_list("campaign_id", "delivery_id", "kind", "delivery__state")
    for campaign_id, delivery_id, kind, state in rows:
        known = reported[campaign_id].get(delivery_id)
        if known is None or kind == BounceKind.HARD:
            reported[campaign_id][delivery_id] = (kind, state)
    split = {}
    for campaign_id in campaign_ids:
        found = reported[campaign_id].values()
        failed = snapshots[campaign_id].failed if campaign_id in snapshots else 0
        failed_reported = sum(1 for _, state in found if state == DeliveryState.FAILED)
        split[campaign_id] = {
            "hard": sum(1 for kind, _ in found if kind == BounceKind.HARD),
            "soft": sum(1 for kind, _ in found if kind == BounceKind.SOFT)
            + max(failed - failed_reported, 0),
            "accepted_bounced": sum(1 for _, state in found if state == DeliveryState.SENT),
        }
    return split


def campaign_counts(
    campaign_ids: Sequence[int], *, dated: Sequence[int] | None = None
) -> tuple[dict[int, Counts], dt.datetime | None]:
    """Counts of each campaign, in a fixed number of queries however many campaigns; and
    the time of the oldest delivery snapshot of ``dated`` (default: all of them), so that a
    report read with its comparison campaigns shows when its own counts were taken."""
    ids = list(dict.fromkeys(campaign_ids))
    snapshots = current_snapshots(ids)
    bounces = _bounce_split(ids, snapshots)
    rollups = {r.campaign_id: r for r in CampaignRollup.objects.filter(campaign_id__in=ids)}
    people: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for campaign_id, kind, n in (
        Event.objects.filter(
            campaign_id__in=ids,
            type__in=(EventType.UNSUBSCRIBED, EventType.COMPLAINED, EventType.ORDERED),
        )
        .values_list("campaign_id", "type")
        .annotate(n=Count("contact_id", distinct=True))
        .values_list("campaign_id", "type", "n")
    ):
        if campaign_id is not None:
            people[campaign_id][kind] = n
    orders: defaultdict[int, int] = defaultdict(int)
    revenue: defaultdict[int, dict[str, Decimal]] = defaultdict(dict)
    for campaign_id, currency, n, total in (
        Event.objects.filter(campaign_id__in=ids, type=EventType.ORDERED, order__isnull=False)
        .values_list("campaign_id", "order__currency")
        .annotate(n=Count("order_id", distinct=True), total=Sum("order__total"))
        .values_list("campaign_id", "order__currency", "n", "total")
    ):
        if campaign_id is None:
            continue
        orders[campaign_id] += n
        revenue[campaign_id][currency] = (total or Decimal(0)).quantize(CENTS)
    result = {}
    for campaign_id in ids:
        snap = snapshots.get(campaign_id) or DeliverySnapshot(campaign_id=campaign_id)
        roll = rollups.get(campaign_id) or CampaignRollup(campaign_id=campaign_id)
        split = bounces[campaign_id]
        result[campaign_id] = Counts(
            recipients=snap.recipients,
            sent=snap.sent + snap.failed,
            delivered=snap.sent - split["accepted_bounced"],
            bounced_hard=split["hard"],
            bounced_soft=split["soft"],
            skipped=snap.skipped,
            capped=snap.capped,
            pending=snap.pending,
            unknown=snap.unknown,
            opens=roll.opens,
            clicks=roll.clicks,
            machine_opens=roll.machine_opens,
            scanner_clicks=roll.scanner_clicks,
            openers=roll.openers,
            clickers=roll.clickers,
            openers_by_click=roll.openers_by_click,
            unsubscribed=people[campaign_id].get(EventType.UNSUBSCRIBED, 0),
            complained=people[campaign_id].get(EventType.COMPLAINED, 0),
            converted=people[campaign_id].get(EventType.ORDERED, 0),
            orders=orders[campaign_id],
            revenue=_money(revenue[campaign_id]),
        )
    dated_ids = set(ids if dated is None else dated)
    times = [s.computed_at for i, s in snapshots.items() if i in dated_ids and s.computed_at]
    return result, min(times) if times else None


def metrics_for(campaign_ids: Sequence[int], *, absorb: bool = True) -> Metrics:
    """The metrics of one campaign, or of several together (an automation's emails, an A/B
    test's variants one by one). ``absorb`` first takes in the events committed so far."""
    if absorb:
        absorb_events()
    per_campaign, as_of = campaign_counts(campaign_ids)
    total = sum(per_campaign.values(), Counts())
    return Metrics(counts=total, as_of=as_of)
