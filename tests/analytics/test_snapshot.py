"""Delivery snapshots: taken by the scheduler for live campaigns, retaken when bounces come
back, and the scheduler's job absorbs events too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.analytics.metrics import campaign_counts, metrics_for
from rapport.analytics.models import AbsorbState, DeliverySnapshot
from rapport.automation.scheduler import JOBS
from rapport.crm.models import Event
from rapport.delivery.models import Bounce, BounceKind, Delivery, DeliveryState
from tests.analytics.fixture import make_spring, sent_yesterday
from tests.factories import started_campaign

pytestmark = pytest.mark.django_db


def test_the_scheduler_job_absorbs_events_and_snapshots_sending_campaigns() -> None:
    spring = make_spring()
    sending = started_campaign(["a@example.com", "b@example.com"], name="Live")
    Delivery.objects.filter(campaign_id=sending).update(state=DeliveryState.SENT)
    job = next(job for job in JOBS if job.name == "refresh analytics")

    job.run(timezone.now())

    assert AbsorbState.objects.get().absorbed_through == Event.objects.latest("pk").pk
    snapshot = DeliverySnapshot.objects.get(campaign_id=sending)
    assert (snapshot.sent, snapshot.final) == (2, False)
    assert not DeliverySnapshot.objects.filter(campaign_id=spring.campaign).exists()


def test_a_final_snapshot_is_retaken_when_a_bounce_comes_back() -> None:
    spring = make_spring()
    before = metrics_for([spring.campaign]).counts
    assert DeliverySnapshot.objects.get(campaign_id=spring.campaign).final

    Bounce.objects.create(
        key="late",
        kind=BounceKind.HARD,
        delivery_id=spring.deliveries[0],
        campaign_id=spring.campaign,
        email="c0@gmail.com",
        source="imap",
    )
    after = metrics_for([spring.campaign]).counts

    assert (before.delivered, after.delivered) == (7, 6)
    assert (before.bounced_hard, after.bounced_hard) == (1, 2)
    assert DeliverySnapshot.objects.get(campaign_id=spring.campaign).bounce_reports == 4


def test_a_report_is_dated_by_its_own_snapshot_not_its_comparisons() -> None:
    own = make_spring().campaign
    other = sent_yesterday("Earlier", openers=1, clickers=0)
    metrics_for([own, other])  # both snapshots taken, final
    earlier = timezone.now() - dt.timedelta(minutes=10)  # final ones are kept 30 minutes
    DeliverySnapshot.objects.filter(campaign_id=other).update(computed_at=earlier)
    own_time = DeliverySnapshot.objects.get(campaign_id=own).computed_at

    _, as_of_all = campaign_counts([own, other])
    _, as_of_own = campaign_counts([own, other], dated=[own])

    assert as_of_all == earlier
    assert as_of_own == own_time
