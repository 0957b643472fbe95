"""A campaign's (or an automation's) report: the metrics and every table behind them, read
from the rollups and snapshots, never from raw events.

Each table is a ``Table`` (named columns, typed cells) so that the page, the CSV export and
the API show the same numbers.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.analytics.absorb import absorb_events
from rapport.analytics.metrics import Counts, Metrics, campaign_counts, rate
from rapport.analytics.models import (
    BreakdownRollup,
    Dimension,
    HourlyRollup,
    LinkRollup,
    SnapshotRow,
)
from rapport.analytics.snapshot import OTHER
from rapport.campaigns.models import Campaign, CampaignKind, CampaignState

Cell = int | float | str | Decimal | None
COMPARE_WITH = 10  # previous broadcasts whose median a campaign is compared with
HOURS_SHOWN = 24 * 14  # the hour-by-hour table and chart cover two weeks after sending


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's name and the API key
    title: str | Promise
    columns: tuple[str, ...]
    headers: tuple[str | Promise, ...]
    rows: list[tuple[Cell, ...]]


@dataclass(frozen=True)
class Comparison:
    metric: str
    label: str | Promise
    this: float | None
    median: float | None

    @property
    def difference(self) -> float | None:
        if self.this is None or self.median is None:
            return None
        return self.this - self.median


@dataclass(frozen=True)
class Report:
    campaign_ids: tuple[int, ...]
    metrics: Metrics
    compared: bool  # against previous broadcasts (not for an automation)
    compared_with: int  # how many previous broadcasts the median is of
    comparison: list[Comparison]
    tables: dict[str, Table]


RATE_LABELS: dict[str, str | Promise] = {
    "open_rate": _("Open rate"),
    "click_rate": _("Click rate"),
    "click_to_open": _("Click-to-open rate"),
    "conversion_rate": _("Conversion rate"),
    "bounce_rate": _("Bounce rate"),
    "unsubscribe_rate": _("Unsubscribe rate"),
    "complaint_rate": _("Complaint rate"),
}


def _summary(metrics: Metrics) -> Table:
    c = metrics.counts
    rows: list[tuple[Cell, ...]] = [
        ("recipients", str(_("Recipients")), c.recipients, None),
        ("sent", str(_("Sent")), c.sent, None),
        ("delivered", str(_("Delivered")), c.delivered, rate(c.delivered, c.sent)),
        ("bounced_hard", str(_("Hard bounces")), c.bounced_hard, rate(c.bounced_hard, c.sent)),
        ("bounced_soft", str(_("Soft bounces")), c.bounced_soft, rate(c.bounced_soft, c.sent)),
        ("opened", str(_("Opened (unique people)")), c.openers, metrics.open_rate),
        ("opened_by_click", str(_("of whom known only by a click")), c.openers_by_click, None),
        ("clicked", str(_("Clicked (unique people)")), c.clickers, metrics.click_rate),
        ("click_to_open", str(_("Click-to-open")), None, metrics.click_to_open),
        ("opens", str(_("Opens (all, humans)")), c.opens, None),
        ("clicks", str(_("Clicks (all, humans)")), c.clicks, None),
        ("machine_opens", str(_("Machine opens (not counted)")), c.machine_opens, None),
        ("scanner_clicks", str(_("Scanner clicks (not counted)")), c.scanner_clicks, None),
        (
            "converted",
            str(_("Converted (people who ordered)")),
            c.converted,
            metrics.conversion_rate,
        ),
        ("orders", str(_("Orders")), c.orders, None),
        ("unsubscribed", str(_("Unsubscribed")), c.unsubscribed, metrics.unsubscribe_rate),
        ("complained", str(_("Complaints")), c.complained, metrics.complaint_rate),
        ("capped", str(_("Held by a frequency cap")), c.capped, None),
        ("skipped", str(_("Skipped")), c.skipped, None),
        ("pending", str(_("Not sent yet")), c.pending, None),
    ]
    for money in c.revenue:
        rows.append(
            (f"revenue_{money.currency}", f"{_('Revenue')} {money.currency}", money.amount, None)
        )
    for money in metrics.revenue_per_email:
        rows.append(
            (
                f"revenue_per_email_{money.currency}",
                f"{_('Revenue per email delivered')} {money.currency}",
                money.amount,
                None,
            )
        )
    return Table(
        name="summary",
        title=_("Summary"),
        columns=("metric", "label", "count", "rate"),
        headers=(_("Metric"), _("Name"), _("Count"), _("Rate")),
        rows=rows,
    )


def _starts(campaign_ids: Sequence[int]) -> dict[int, dt.datetime | None]:
    return dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "started_at"))


def _hourly(campaign_ids: Sequence[int]) -> Table:
    """Hour by hour after sending: hour 0 is the hour the campaign started (each campaign of a
    set by its own start), so campaigns sent at different times line up."""
    starts = _starts(campaign_ids)
    rows = HourlyRollup.objects.filter(campaign_id__in=campaign_ids).order_by("hour")
    by_offset: defaultdict[int, list[int]] = defaultdict(lambda: [0] * 6)
    first_hour: dict[int, dt.datetime] = {}
    for row in rows:
        start = starts.get(row.campaign_id) or first_hour.setdefault(row.campaign_id, row.hour)
        start = start.replace(minute=0, second=0, microsecond=0)
        offset = max(int((row.hour - start).total_seconds() // 3600), 0)
        if offset >= HOURS_SHOWN:
            continue
        values = (
            row.opens,
            row.clicks,
            row.openers,
            row.clickers,
            row.machine_opens,
            row.scanner_clicks,
        )
        by_offset[offset] = [a + b for a, b in zip(by_offset[offset], values, strict=True)]
    last = max(by_offset, default=-1)
    table_rows: list[tuple[Cell, ...]] = [(h, *by_offset[h]) for h in range(last + 1)]
    return Table(
        name="hourly",
        title=_("Hour by hour after sending"),
        columns=(
            "hour",
            "opens",
            "clicks",
            "openers",
            "clickers",
            "machine_opens",
            "scanner_clicks",
        ),
        headers=(
            _("Hour after sending"),
            _("Opens"),
            _("Clicks"),
            _("New openers"),
            _("New clickers"),
            _("Machine opens"),
            _("Scanner clicks"),
        ),
        rows=table_rows,
    )


def _links(campaign_ids: Sequence[int]) -> Table:
    rows = (
        LinkRollup.objects.filter(campaign_id__in=campaign_ids)
        .values("url")
        .annotate(human=Sum("clicks"), scanner=Sum("scanner_clicks"))
        .order_by("-human", "url")
    )
    found = [(row["url"], row["human"], row["scanner"]) for row in rows]
    total = sum(human for _url, human, _scanner in found)
    return Table(
        name="links",
        title=_("Links"),
        columns=("url", "clicks", "share", "scanner_clicks"),
        headers=(_("Link"), _("Clicks"), _("Share of clicks"), _("Scanner clicks")),
        rows=[(url, human, rate(human, total), scanner) for url, human, scanner in found],
    )


def _breakdown(campaign_ids: Sequence[int], dimension: Dimension) -> list[tuple[str, list[int]]]:
    rows = (
        BreakdownRollup.objects.filter(campaign_id__in=campaign_ids, dimension=dimension)
        .values("value")
        .annotate(
            openers=Sum("openers"),
            clickers=Sum("clickers"),
            opens=Sum("opens"),
            clicks=Sum("clicks"),
        )
        .order_by("-openers", "value")
    )
    return [
        (row["value"], [row["openers"], row["clickers"], row["opens"], row["clicks"]])
        for row in rows
        if row["openers"] or row["opens"] or row["clicks"]
    ]


def _engagement_table(campaign_ids: Sequence[int], dimension: Dimension, openers: int) -> Table:
    found = _breakdown(campaign_ids, dimension)
    titles = {
        Dimension.DEVICE: (_("Devices"), _("Device")),
        Dimension.CLIENT: (_("Mail clients"), _("Mail client")),
    }
    title, header = titles[dimension]
    return Table(
        name=f"{dimension}s",
        title=title,
        columns=(str(dimension), "openers", "share", "clickers", "opens", "clicks"),
        headers=(
            header,
            _("Openers"),
            _("Share of openers"),
            _("Clickers"),
            _("Opens"),
            _("Clicks"),
        ),
        rows=[(value, o, rate(o, openers), c, op, cl) for value, (o, c, op, cl) in found],
    )


def _domains(campaign_ids: Sequence[int]) -> Table:
    """Sent and bounced from the snapshots (top domains, the rest as one row), openers and
    clickers from the rollup, which has every domain."""
    sent: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in SnapshotRow.objects.filter(campaign_id__in=campaign_ids, dimension="domain"):
        sent[row.key][0] += row.sent
        sent[row.key][1] += row.bounced
    engaged: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for value, (openers, clickers, _opens, _clicks) in _breakdown(campaign_ids, Dimension.DOMAIN):
        key = value if value in sent else OTHER
        engaged[key][0] += openers
        engaged[key][1] += clickers
    rows: list[tuple[Cell, ...]] = []
    for domain, (count, bounced) in sorted(sent.items(), key=lambda i: (i[0] == OTHER, -i[1][0])):
        delivered = count - bounced
        openers, clickers = engaged[domain]
        rows.append(
            (
                domain,
                count,
                bounced,
                delivered,
                openers,
                clickers,
                rate(openers, delivered),
                rate(clickers, delivered),
            )
        )
    return Table(
        name="domains",
        title=_("Recipient domains"),
        columns=(
            "domain",
            "sent",
            "bounced",
            "delivered",
            "openers",
            "clickers",
            "open_rate",
            "click_rate",
        ),
        headers=(
            _("Domain"),
            _("Sent"),
            _("Bounced"),
            _("Delivered"),
            _("Openers"),
            _("Clickers"),
            _("Open rate"),
            _("Click rate"),
        ),
        rows=rows,
    )


def _segments(campaign_ids: Sequence[int]) -> Table:
    merged: dict[str, list[int]] = {}
    for row in SnapshotRow.objects.filter(
        campaign_id__in=campaign_ids, dimension="segment"
    ).order_by("label"):
        values = merged.setdefault(row.label, [0, 0, 0, 0])
        for i, n in enumerate((row.sent, row.bounced, row.openers, row.clickers)):
            values[i] += n
    rows: list[tuple[Cell, ...]] = []
    for label, (sent, bounced, openers, clickers) in merged.items():
        delivered = sent - bounced
        rows.append(
            (
                label,
                sent,
                delivered,
                openers,
                clickers,
                rate(openers, delivered),
                rate(clickers, delivered),
            )
        )
    return Table(
        name="segments",
        title=_("Segments (members now)"),
        columns=("segment", "sent", "delivered", "openers", "clickers", "open_rate", "click_rate"),
        headers=(
            _("Segment"),
            _("Sent"),
            _("Delivered"),
            _("Openers"),
            _("Clickers"),
            _("Open rate"),
            _("Click rate"),
        ),
        rows=rows,
    )


def previous_broadcasts(campaign_ids: Sequence[int], limit: int = COMPARE_WITH) -> list[int]:
    """The last ``limit`` finished broadcasts started before the first of these campaigns."""
    started = [s for s in _starts(campaign_ids).values() if s is not None]
    # Broadcasts only: automation emails are not what a newsletter is compared with.
    earlier = Campaign.objects.filter(
        kind=CampaignKind.BROADCAST, state=CampaignState.SENT
    ).exclude(pk__in=campaign_ids)
    if started:
        earlier = earlier.filter(started_at__lt=min(started))
    else:
        earlier = earlier.exclude(started_at=None)
    return list(earlier.order_by("-started_at").values_list("pk", flat=True)[:limit])


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _compare(metrics: Metrics, previous: dict[int, Counts]) -> list[Comparison]:
    earlier = [Metrics(counts=c, as_of=None) for c in previous.values()]
    return [
        Comparison(
            metric=name,
            label=label,
            this=getattr(metrics, name),
            median=_median([getattr(m, name) for m in earlier]),
        )
        for name, label in RATE_LABELS.items()
    ]


def _comparison_table(comparison: list[Comparison]) -> Table:
    return Table(
        name="comparison",
        title=_("Compared with previous campaigns"),
        columns=("metric", "this", "median", "difference"),
        headers=(_("Rate"), _("This campaign"), _("Median of previous"), _("Difference")),
        rows=[(str(c.label), c.this, c.median, c.difference) for c in comparison],
    )


def _emails(campaign_ids: Sequence[int], counts: dict[int, Counts]) -> Table:
    """One row per email of a set (an automation's steps)."""
    names = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "name"))
    rows: list[tuple[Cell, ...]] = []
    for campaign_id in campaign_ids:
        m = Metrics(counts=counts[campaign_id], as_of=None)
        c = m.counts
        rows.append(
            (
                names.get(campaign_id, str(campaign_id)),
                c.sent,
                c.delivered,
                m.open_rate,
                m.click_rate,
                m.click_to_open,
                c.converted,
                m.unsubscribe_rate,
            )
        )
    return Table(
        name="emails",
        title=_("Emails"),
        columns=(
            "email",
            "sent",
            "delivered",
            "open_rate",
            "click_rate",
            "click_to_open",
            "converted",
            "unsubscribe_rate",
        ),
        headers=(
            _("Email"),
            _("Sent"),
            _("Delivered"),
            _("Open rate"),
            _("Click rate"),
            _("Click-to-open"),
            _("Converted"),
            _("Unsubscribe rate"),
        ),
        rows=rows,
    )


def build_report(
    campaign_ids: Sequence[int], *, absorb: bool = True, compare: bool = True
) -> Report:
    """Everything a report shows. ``absorb`` first brings the rollups up to date with the
    events committed so far (cheap when little is new), so a report is never behind;
    ``compare`` adds the median of the previous broadcasts. A set of several campaigns (an
    automation's emails) also gets a row per email."""
    ids = tuple(dict.fromkeys(campaign_ids))
    if absorb:
        absorb_events()
    previous_ids = previous_broadcasts(ids) if compare else []
    counts, as_of = campaign_counts([*ids, *previous_ids], dated=ids)
    metrics = Metrics(counts=sum((counts[i] for i in ids), Counts()), as_of=as_of)
    comparison = _compare(metrics, {i: counts[i] for i in previous_ids})
    tables = [
        _summary(metrics),
        _hourly(ids),
        _links(ids),
        _engagement_table(ids, Dimension.DEVICE, metrics.counts.openers),
        _engagement_table(ids, Dimension.CLIENT, metrics.counts.openers),
        _domains(ids),
        _segments(ids),
        _comparison_table(comparison),
    ]
    if len(ids) > 1:
        tables.append(_emails(ids, counts))
    return Report(
        campaign_ids=ids,
        metrics=metrics,
        compared=compare,
        compared_with=len(previous_ids),
        comparison=comparison,
        tables={table.name: table for table in tables},
    )
