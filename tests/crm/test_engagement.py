"""Each contact's latest open and click on its row: moved forward by every saved event, never
back, and equal to a recomputation from the events after a bulk load."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from rapport.crm.engagement import refresh_engagement
from rapport.crm.models import Contact, Event, EventType
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _columns() -> list[tuple[int, dt.datetime | None, dt.datetime | None]]:
    return list(
        Contact.objects.order_by("pk").values_list("pk", "last_opened_at", "last_clicked_at")
    )


def test_saved_events_keep_the_latest_and_a_refresh_agrees() -> None:
    rng = random.Random(5)
    people = [make_contact() for _ in range(8)]
    start = timezone.now() - dt.timedelta(days=400)
    for _ in range(200):  # in no particular order of time
        Event.objects.create(
            contact=rng.choice(people),
            type=rng.choice([EventType.OPENED, EventType.CLICKED, EventType.SENT]),
            occurred_at=start + dt.timedelta(hours=rng.randrange(9000)),
        )
    kept = _columns()

    Contact.objects.update(last_opened_at=None, last_clicked_at=None)
    refresh_engagement()

    assert _columns() == kept
    for pk, opened, _ in kept:
        latest = (
            Event.objects.filter(contact_id=pk, type=EventType.OPENED)
            .order_by("-occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        assert opened == latest


def test_bulk_loads_are_caught_up_by_a_refresh_of_those_contacts() -> None:
    first, second = make_contact(), make_contact()
    moment = timezone.now() - dt.timedelta(days=3)
    Event.objects.bulk_create(
        [Event(contact=c, type=EventType.CLICKED, occurred_at=moment) for c in (first, second)]
    )
    assert Contact.objects.get(pk=first.pk).last_clicked_at is None  # bulk skips signals

    refresh_engagement([first.pk])

    assert Contact.objects.get(pk=first.pk).last_clicked_at == moment
    assert Contact.objects.get(pk=second.pk).last_clicked_at is None
