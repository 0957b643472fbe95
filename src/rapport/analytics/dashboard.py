"""The dashboard's figures for the last 30 or 90 days: sending, engagement, conversions and
list growth per day, the best and worst campaigns, and when the audience opens.

Everything is read from the rollups and snapshots (a few hundred rows), plus the contacts'
consent dates and the few unsubscribe/complaint/bounce and order events of the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from rapport.analytics.absorb import absorb_events
from rapport.analytics.metrics import Counts, Metrics, Money, campaign_counts
from rapport.analytics.models import HourlyRollup, LocalOpenHour, SnapshotRow
from rapport.campaigns.models import Campaign, CampaignKind
from rapport.crm.models import Contact, Event, EventType

PERIODS = (30, 90)
MIN_DELIVERED = 50  # a campaign smaller than this is neither best nor worst: too few to judge
RANKED = 5
MIN_OPENERS_FOR_WINDOW = 200  # fewer first opens than this say nothing about the audience
WINDOW_HOURS = 4
WINDOW_DAYS = 3
# Starts that keep a window out of quiet hours (21:00-08:00 local), where sends never go.
WINDOW_STARTS = range(8, 21 - WINDOW_HOURS + 1)


@dataclass(frozen=True)
class Day:
    day: dt.date
    sent: int
    openers: int
    clickers: int
    orders: int
    gained: int
    lost: int

    @property
    def growth(self) -> int:
        return self.gained - self.lost


@dataclass(frozen=True)
class Ranked:
    campaign_id: int
    name: str
    metrics: Metrics


@dataclass(frozen=True)
class WindowSuggestion:
    days: tuple[int, ...]  # 0 = Monday
    start: dt.time
    end: dt.time
    openers: int  # first opens the suggestion rests on
    share: float  # of them inside the window


@dataclass(frozen=True)
class Overview:
    days: int
    since: dt.date
    totals: Metrics
    series: list[Day]
    best: list[Ranked]
    worst: list[Ranked]
    heatmap: list[list[int]]  # [weekday][hour], contacts' local time
    suggestion: WindowSuggestion | None

    @property
    def revenue(self) -> tuple[Money, ...]:
        return self.totals.counts.revenue


def _by_day(since: dt.date, rows: object) -> defaultdict[dt.date, int]:
    counts: defaultdict[dt.date, int] = defaultdict(int)
    for day, n in rows:  # type: ignore[attr-defined]
        if day is not None and day >= since:
            counts[day] += n
    return counts


def _series(since: dt.date, today: dt.date) -> list[Day]:
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    sent = _by_day(
        since,
        (
            (dt.date.fromisoformat(key), n)
            for key, n in SnapshotRow.objects.filter(dimension="day", key__gte=since.isoformat())
            .values_list("key")
            .annotate(n=Sum("sent"))
            .values_list("key", "n")
        ),
    )
    openers: defaultdict[dt.date, int] = defaultdict(int)
    clickers: defaultdict[dt.date, int] = defaultdict(int)
    for hour, o, c in (
        HourlyRollup.objects.filter(hour__gte=start)
        .values_list("hour")
        .annotate(o=Sum("openers"), c=Sum("clickers"))
        .values_list("hour", "o", "c")
    ):
        openers[hour.date()] += o
        clickers[hour.date()] += c
    events = Event.objects.filter(occurred_at__gte=start).annotate(day=TruncDate("occurred_at"))
    orders = _by_day(
        since,
        events.filter(type=EventType.ORDERED, campaign_id__isnull=False)
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n"),
    )
    lost = _by_day(
        since,
        events.filter(
            Q(type__in=(EventType.UNSUBSCRIBED, EventType.COMPLAINED))
            | Q(type=EventType.BOUNCED, data__kind="hard")
        )
        .values_list("day")
        .annotate(n=Count("contact_id", distinct=True))
        .values_list("day", "n"),
    )
    gained = _by_day(
        since,
        Contact.objects.filter(consent_at__gte=start)
        .annotate(day=TruncDate("consent_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n"),
    )
    days = [since + dt.timedelta(days=i) for i in range((today - since).days + 1)]
    return [
        Day(
            day=d,
            sent=sent[d],
            openers=openers[d],
            clickers=clickers[d],
            orders=orders[d],
            gained=gained[d],
            lost=lost[d],
        )
        for d in days
    ]


def heatmap(since: dt.date) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for weekday, hour, n in (
        LocalOpenHour.objects.filter(day__gte=since)
        .values_list("weekday", "hour")
        .annotate(n=Sum("openers"))
        .values_list("weekday", "hour", "n")
    ):
        grid[weekday][hour] += n
    return grid


def suggest_window(
    *, now: dt.datetime | None = None, grid: list[list[int]] | None = None
) -> WindowSuggestion | None:
    """The best sending window from the last 90 days' first opens in local time: the
    ``WINDOW_HOURS`` hours (out of quiet hours) that the most people first opened in, on the
    ``WINDOW_DAYS`` weekdays strongest in those hours. None below ``MIN_OPENERS_FOR_WINDOW``:
    a handful of opens would move the workspace's default on noise."""
    now = now or timezone.now()
    grid = grid if grid is not None else heatmap((now - dt.timedelta(days=90)).date())
    total = sum(map(sum, grid))
    if total < MIN_OPENERS_FOR_WINDOW:
        return None

    def inside(weekday: int, start: int) -> int:
        return sum(grid[weekday][start : start + WINDOW_HOURS])

    start = max(WINDOW_STARTS, key=lambda s: (sum(inside(d, s) for d in range(7)), -s))
    days = sorted(sorted(range(7), key=lambda d: (-inside(d, start), d))[:WINDOW_DAYS])
    covered = sum(inside(d, start) for d in days)
    return WindowSuggestion(
        days=tuple(days),
        start=dt.time(start),
        end=dt.time(start + WINDOW_HOURS),
        openers=total,
        share=covered / total,
    )


def _ranked(since: dt.datetime) -> tuple[Metrics, list[Ranked], list[Ranked]]:
    """Totals of the campaigns started in the period (automation emails included), and the
    broadcasts among them ranked (a journey's emails have their own report)."""
    rows = list(Campaign.objects.filter(started_at__gte=since).values_list("pk", "name", "kind"))
    campaigns = {pk: name for pk, name, _kind in rows}
    ranked = {pk for pk, _name, kind in rows if kind == CampaignKind.BROADCAST}
    counts, as_of = campaign_counts(list(campaigns))
    total = sum(counts.values(), Counts())
    judged = [
        Ranked(campaign_id=pk, name=campaigns[pk], metrics=Metrics(counts=c, as_of=as_of))
        for pk, c in counts.items()
        if c.delivered >= MIN_DELIVERED and pk in ranked
    ]
    judged.sort(key=lambda r: (r.metrics.click_rate or 0, r.metrics.open_rate or 0), reverse=True)
    best = judged[:RANKED]
    worst = [r for r in reversed(judged[-RANKED:]) if r not in best]
    return Metrics(counts=total, as_of=as_of), best, worst


def overview(days: int = 30, *, now: dt.datetime | None = None) -> Overview:
    """The dashboard's figures for the last ``days`` (30 or 90), events absorbed first."""
    absorb_events()
    now = now or timezone.now()
    days = days if days in PERIODS else PERIODS[0]
    since = (now - dt.timedelta(days=days - 1)).date()
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    totals, best, worst = _ranked(start)
    grid = heatmap(since)
    ninety = grid if days == 90 else None
    return Overview(
        days=days,
        since=since,
        totals=totals,
        series=_series(since, now.date()),
        best=best,
        worst=worst,
        heatmap=grid,
        suggestion=suggest_window(now=now, grid=ninety),
    )
