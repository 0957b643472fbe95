"""The rollups equal a recount from the raw events, however the events arrive: out of time
order, with ids committed late (below the watermark), and absorbed in any slices."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.analytics.absorb import absorb_events, link_key, local_slot
from rapport.analytics.models import (
    AbsorbState,
    BreakdownRollup,
    CampaignRollup,
    EngagementFact,
    HourlyRollup,
    LinkRollup,
    LocalOpenHour,
    PendingGap,
)
from rapport.crm.models import Event, EventType
from tests.factories import make_contact

T0 = dt.datetime(2026, 5, 4, 22, 0, tzinfo=dt.UTC)
ZONES = ["Asia/Shanghai", "", "America/New_York"]
DOMAINS = ["gmail.com", "qq.com"]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Raw:
    campaign: int
    contact: int  # index into the contacts
    kind: str
    minutes: int
    bot: bool  # machine open / scanner click
    device: str
    client: str
    link: int


raw_events = st.builds(
    Raw,
    campaign=st.sampled_from([7001, 7002]),
    contact=st.integers(0, 5),
    kind=st.sampled_from([EventType.OPENED, EventType.CLICKED]),
    minutes=st.integers(0, 60 * 30),
    bot=st.booleans(),
    device=st.sampled_from(["desktop", "mobile", "tablet", "", "phone?"]),
    client=st.sampled_from(["Apple Mail", "Gmail", "Outlook", ""]),
    link=st.integers(1, 3),
)


def _event(pk: int, raw: Raw, contacts: list[int]) -> Event:
    flag = "machine" if raw.kind == EventType.OPENED else "scanner"
    data: dict[str, Any] = {
        "delivery": 1,
        flag: raw.bot,
        "device": raw.device,
        "client": raw.client,
    }
    if raw.kind == EventType.CLICKED:
        data |= {"link": raw.link, "url": f"https://example.com/{raw.link}"}
    return Event(
        pk=pk,
        contact_id=contacts[raw.contact],
        type=raw.kind,
        campaign_id=raw.campaign,
        occurred_at=T0 + dt.timedelta(minutes=raw.minutes),
        data=data,
    )


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def recount(contacts: dict[int, tuple[str, str]]) -> dict[str, Counter[Any]]:
    """Everything the rollups hold, counted from the events by the plain definitions."""
    out: dict[str, Counter[Any]] = defaultdict(Counter)
    people: defaultdict[tuple[int, int], list[Event]] = defaultdict(list)
    for e in Event.objects.filter(type__in=[EventType.OPENED, EventType.CLICKED]).order_by("pk"):
        assert e.campaign_id is not None
        c, opening = e.campaign_id, e.type == EventType.OPENED
        if e.data.get("machine" if opening else "scanner"):
            name = "machine_opens" if opening else "scanner_clicks"
            out["campaign"][(c, name)] += 1
            out["hourly"][(c, _hour(e.occurred_at), name)] += 1
            if not opening:
                out["links"][(c, link_key(e.data), "scanner_clicks")] += 1
            continue
        name = "opens" if opening else "clicks"
        device = (
            e.data["device"] if e.data["device"] in ("desktop", "mobile", "tablet") else "unknown"
        )
        client = e.data["client"] or "unknown"
        domain = contacts[e.contact_id][0]
        out["campaign"][(c, name)] += 1
        out["hourly"][(c, _hour(e.occurred_at), name)] += 1
        for dim, value in (("device", device), ("client", client), ("domain", domain)):
            out["breakdown"][(c, dim, value, name)] += 1
        if not opening:
            out["links"][(c, link_key(e.data), "clicks")] += 1
        people[(c, e.contact_id)].append(e)
    for (c, contact), events in people.items():
        first = min(events, key=lambda e: e.occurred_at)  # ties: the earliest id
        clicks = [e for e in events if e.type == EventType.CLICKED]
        device = (
            first.data["device"]
            if first.data["device"] in ("desktop", "mobile", "tablet")
            else "unknown"
        )
        client = first.data["client"] or "unknown"
        domain, zone = contacts[contact]
        out["campaign"][(c, "openers")] += 1
        out["hourly"][(c, _hour(first.occurred_at), "openers")] += 1
        out["local"][local_slot(first.occurred_at, zone)] += 1
        for dim, value in (("device", device), ("client", client), ("domain", domain)):
            out["breakdown"][(c, dim, value, "openers")] += 1
            if clicks:
                out["breakdown"][(c, dim, value, "clickers")] += 1
        if clicks:
            out["campaign"][(c, "clickers")] += 1
            first_click = min(clicks, key=lambda e: e.occurred_at)
            out["hourly"][(c, _hour(first_click.occurred_at), "clickers")] += 1
            if all(e.type == EventType.CLICKED for e in events):
                out["campaign"][(c, "openers_by_click")] += 1
    return out


def rollups() -> dict[str, Counter[Any]]:
    out: dict[str, Counter[Any]] = defaultdict(Counter)
    names = ("opens", "clicks", "machine_opens", "scanner_clicks", "openers", "clickers")
    for row in CampaignRollup.objects.all():
        for name in (*names, "openers_by_click"):
            out["campaign"][(row.campaign_id, name)] += getattr(row, name)
    for h in HourlyRollup.objects.all():
        for name in names:
            out["hourly"][(h.campaign_id, h.hour, name)] += getattr(h, name)
    for b in BreakdownRollup.objects.all():
        for name in ("opens", "clicks", "openers", "clickers"):
            out["breakdown"][(b.campaign_id, b.dimension, b.value, name)] += getattr(b, name)
    for link in LinkRollup.objects.all():
        for name in ("clicks", "scanner_clicks"):
            out["links"][(link.campaign_id, link.key, name)] += getattr(link, name)
    for slot in LocalOpenHour.objects.all():
        out["local"][(slot.day, slot.weekday, slot.hour)] += slot.openers
    return {key: +counter for key, counter in out.items()}  # drop zeros


@pytest.fixture
def people(db: None) -> dict[int, tuple[str, str]]:
    made = {}
    for i in range(6):
        domain, zone = DOMAINS[i % 2], ZONES[i % 3]
        made[make_contact(email=f"p{i}@{domain}", timezone=zone).pk] = (domain, zone)
    return made


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # Distinct times: two events of one person in the same instant are ordered by arrival.
    events=st.lists(raw_events, min_size=1, max_size=40, unique_by=lambda raw: raw.minutes),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 40), max_size=4),
    chunk=st.integers(1, 50),
)
def test_rollups_equal_a_recount_whatever_the_arrival_order(
    people: dict[int, tuple[str, str]],
    events: list[Raw],
    order: Any,
    cuts: list[int],
    chunk: int,
) -> None:
    for model in (
        Event,
        AbsorbState,
        PendingGap,
        EngagementFact,
        CampaignRollup,
        HourlyRollup,
        LinkRollup,
        BreakdownRollup,
        LocalOpenHour,
    ):
        model.objects.all().delete()
    contacts = list(people)
    made = [_event(pk, raw, contacts) for pk, raw in enumerate(events, start=1)]
    order.shuffle(made)  # commit order differs from id order: late ids land below the watermark
    start = 0
    for cut in sorted({min(cut, len(made)) for cut in cuts} | {len(made)}):
        Event.objects.bulk_create(made[start:cut])
        start = cut
        absorb_events(now=NOW, chunk_ids=chunk)

    assert rollups() == {key: +counter for key, counter in recount(people).items()}
    assert AbsorbState.objects.get().absorbed_through == len(made)
    assert not PendingGap.objects.exists()


def test_a_second_run_changes_nothing(people: dict[int, tuple[str, str]]) -> None:
    contacts = list(people)
    Event.objects.bulk_create(
        _event(pk, Raw(7001, pk % 6, EventType.OPENED, pk, False, "mobile", "Gmail", 1), contacts)
        for pk in range(1, 30)
    )
    absorb_events(now=NOW)
    before = rollups()

    result = absorb_events(now=NOW)

    assert result.events == 0
    assert rollups() == before


def test_a_gap_is_given_up_after_the_patience(people: dict[int, tuple[str, str]]) -> None:
    contacts = list(people)
    raw = Raw(7001, 0, EventType.OPENED, 5, False, "mobile", "Gmail", 1)
    Event.objects.bulk_create([_event(1, raw, contacts), _event(3, raw, contacts)])
    absorb_events(now=NOW)
    assert list(PendingGap.objects.values_list("first_id", "last_id")) == [(2, 2)]

    absorb_events(now=NOW + dt.timedelta(hours=1))

    assert not PendingGap.objects.exists()
