"""Send-time optimisation: best hours learned from human opens and clicks, recency-weighted,
with the segment's and the workspace's hour as fallbacks, used by the best-hour schedule."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from rapport.automation.scheduler import JOBS
from rapport.campaigns import send_times
from rapport.campaigns.models import Campaign, ScheduleMode, SendHour
from rapport.campaigns.send_times import BestHours, best_local_hour, learn
from rapport.campaigns.services import create_campaign, start_campaign
from rapport.content.models import Workspace
from rapport.content.services import TemplateContent, create_template
from rapport.crm.models import Contact, Event, EventType
from rapport.delivery.models import Delivery
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _events(contact: Contact, kind: str, *, days_ago: float, utc_hour: int, count: int,
            **data: Any) -> None:  # fmt: skip
    at = (NOW - dt.timedelta(days=days_ago)).replace(hour=utc_hour, minute=20)
    Event.objects.bulk_create(
        Event(contact=contact, type=kind, occurred_at=at + dt.timedelta(minutes=n),
              campaign_id=1, data=data)
        for n in range(count)
    )  # fmt: skip


def test_the_best_hour_is_local_and_smoothed() -> None:
    assert best_local_hour({1: 5.0}, 8.0) == 9
    assert best_local_hour({23: 1.0}, 5.5) == 4  # India: 23:00 UTC is 04:30
    # 8 and 9 together beat a single busier hour at 20.
    assert best_local_hour({8: 3.0, 9: 3.0, 20: 3.5}, 0.0) in (8, 9)


def test_learning_weights_recent_human_engagement_and_forgets_thin_data() -> None:
    reader = make_contact(timezone="Asia/Shanghai")
    _events(reader, EventType.OPENED, days_ago=3, utc_hour=1, count=3)  # 09:xx local, no flag
    _events(reader, EventType.CLICKED, days_ago=10, utc_hour=1, count=2, scanner=False)
    _events(reader, EventType.OPENED, days_ago=170, utc_hour=12, count=10)  # long ago: 20:xx
    _events(reader, EventType.OPENED, days_ago=1, utc_hour=15, count=30, machine=True)
    _events(reader, EventType.CLICKED, days_ago=1, utc_hour=16, count=30, scanner=True)
    occasional = make_contact()
    _events(occasional, EventType.OPENED, days_ago=1, utc_hour=7, count=1)
    stale = make_contact()
    SendHour.objects.create(contact=stale, hour=6, weight=9, learned_at=NOW)
    report = learn(NOW)
    assert (report.contacts, report.removed) == (1, 1)
    learned = SendHour.objects.get(contact=reader)
    assert learned.hour == 9
    assert 3 < learned.weight < 6
    assert not SendHour.objects.filter(contact__in=[occasional, stale]).exists()
    learn(NOW)  # a rerun changes nothing
    assert list(SendHour.objects.values_list("contact_id", "hour")) == [(reader.pk, 9)]


def _segment(name: str, people: list[Contact]) -> Segment:
    segment = Segment.objects.create(name=name, kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(SegmentMember(segment=segment, contact=p) for p in people)
    return segment


def _campaign(*segments: str, mode: str = ScheduleMode.BEST_HOUR) -> Campaign:
    workspace = Workspace.current()
    workspace.postal_address = "1 Nanjing Road, Shanghai"
    workspace.save()
    if not Campaign.objects.exists():
        create_template(name="T", content=TemplateContent(subject="S", html="<p>x</p>"),
                        acting_user=None)  # fmt: skip
    return create_campaign(name=f"C{Campaign.objects.count()}", template="T",
                           audience=list(segments), schedule_mode=mode,
                           acting_user=None)  # fmt: skip


def test_fallbacks_are_the_segment_then_the_workspace_then_ten() -> None:
    nobody = make_contact()
    lonely = _segment("lonely", [nobody])
    assert BestHours(_campaign(lonely.name), now=NOW).for_contacts([nobody.pk]) == {nobody.pk: 10}

    evening = [make_contact() for _ in range(6)]
    SendHour.objects.bulk_create(
        SendHour(contact=p, hour=20, weight=5, learned_at=NOW) for p in evening
    )
    morning = [make_contact() for _ in range(5)]
    SendHour.objects.bulk_create(
        SendHour(contact=p, hour=7, weight=5, learned_at=NOW) for p in morning
    )
    newcomer, stranger = make_contact(), make_contact()
    _segment("early birds", [*morning, newcomer])
    _segment("others", [*evening, stranger])
    hours = BestHours(_campaign("early birds", "others"), now=NOW)
    found = hours.for_contacts([newcomer.pk, stranger.pk, nobody.pk, morning[0].pk])
    # Own hour; the first segment with a learned hour; else the workspace's (most common: 20).
    assert found == {newcomer.pk: 7, stranger.pk: 20, nobody.pk: 20, morning[0].pk: 7}


def test_a_best_hour_campaign_sends_each_contact_at_their_hour() -> None:
    night_owl = make_contact(timezone="Asia/Shanghai", country="")
    lunch = make_contact(timezone="Asia/Shanghai", country="")
    unknown = make_contact(timezone="Asia/Shanghai", country="")
    SendHour.objects.create(contact=night_owl, hour=23, weight=5, learned_at=NOW)
    SendHour.objects.create(contact=lunch, hour=12, weight=5, learned_at=NOW)
    _segment("all", [night_owl, lunch, unknown])
    campaign = _campaign("all")
    start_campaign(campaign.pk, acting_user=None, now=NOW)  # 20:00 in Shanghai
    due = {
        contact: at.astimezone(SHANGHAI)
        for contact, at in Delivery.objects.filter(campaign=campaign).values_list(
            "contact_id", "due_at"
        )
    }
    assert (due[lunch.pk].date(), due[lunch.pk].hour) == (dt.date(2026, 6, 11), 12)
    # 23:00 is in the quiet hours: it waits for their end.
    assert (due[night_owl.pk].hour, due[night_owl.pk].minute) == (8, 0)
    # Nothing learned for them, and too little in the segment or workspace: 10:00.
    assert due[unknown.pk].hour == 10


def test_the_scheduler_learns_daily(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dt.datetime] = []
    monkeypatch.setattr(send_times, "learn", seen.append)
    job = next(job for job in JOBS if job.name == "learn send hours")
    assert job.every == dt.timedelta(hours=24)
    job.run(timezone.now())
    assert len(seen) == 1
