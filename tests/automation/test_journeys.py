"""Journeys end to end under a fake clock: entries, steps, and the emails a real SMTP server
receives."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from rapport.automation.models import EntryState, JourneyEntry, PointsEntry, StepRun
from rapport.crm.models import Contact, ContactStatus, EventType
from rapport.crm.queries import timeline
from rapport.delivery.models import Delivery, DeliveryState
from tests.automation.conftest import make_journey, run
from tests.factories import make_contact, make_order

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2027, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Wednesday, 18:00 in Shanghai

WELCOME = {
    "trigger": {"type": "contact_created"},
    "steps": [
        {"type": "email", "template": "Welcome (English)"},
        {"type": "wait", "days": 2},
        {"type": "email", "template": "Newsletter (English)"},
        {"type": "wait", "days": 3},
        {"type": "email", "template": "Promotion (English)"},
    ],
}


def _created_at(contacts: list[Contact], moment: dt.datetime) -> None:
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(created_at=moment)


def test_a_welcome_series_goes_once_to_each_new_contact(mail):
    """Three emails each, the third held by the B2C cap (2 a week) until the first ages out."""
    handler, pool = mail
    make_journey(WELCOME, on=T0 - dt.timedelta(hours=1))
    people = [make_contact(email=f"new{n}@example.com", timezone="UTC") for n in range(3)]
    _created_at(people, T0)
    before = make_contact(email="old@example.com")
    _created_at([before], T0 - dt.timedelta(days=3))  # there before the journey: not welcomed

    for minutes in range(0, 8 * 24 * 60, 6 * 60):  # every six hours for eight days
        run(T0 + dt.timedelta(minutes=minutes + 1), pool)
        run(T0 + dt.timedelta(minutes=minutes + 1), pool)  # twice: changes nothing

    received = Counter(r.recipient for r in handler.received)
    assert received == {f"new{n}@example.com": 3 for n in range(3)}
    assert set(JourneyEntry.objects.values_list("state", flat=True)) == {EntryState.COMPLETED}
    assert StepRun.objects.count() == 3 * 5
    # Another contact event later (a re-import, an edit) does not make a second pass.
    _created_at(people, T0 + dt.timedelta(days=9))
    run(T0 + dt.timedelta(days=9, minutes=1), pool)
    assert JourneyEntry.objects.count() == 3


def test_the_second_email_waits_two_days(mail):
    handler, pool = mail
    make_journey(WELCOME, on=T0 - dt.timedelta(hours=1))
    _created_at([make_contact(email="a@example.com", timezone="UTC")], T0)

    run(T0 + dt.timedelta(minutes=1), pool)
    run(T0 + dt.timedelta(days=2) - dt.timedelta(minutes=1), pool)
    assert len(handler.received) == 1
    run(T0 + dt.timedelta(days=2, minutes=2), pool)
    assert len(handler.received) == 2


def test_a_contact_who_unsubscribes_mid_journey_gets_nothing_more(mail):
    handler, pool = mail
    make_journey(WELCOME, on=T0 - dt.timedelta(hours=1))
    leaving = make_contact(email="leaving@example.com", timezone="UTC")
    staying = make_contact(email="staying@example.com", timezone="UTC")
    _created_at([leaving, staying], T0)
    run(T0 + dt.timedelta(minutes=1), pool)
    Contact.objects.filter(pk=leaving.pk).update(status=ContactStatus.UNSUBSCRIBED)

    for days in range(1, 9):
        run(T0 + dt.timedelta(days=days, minutes=1), pool)

    received = Counter(r.recipient for r in handler.received)
    assert received == {"leaving@example.com": 1, "staying@example.com": 3}
    entry = JourneyEntry.objects.get(contact=leaving)
    assert entry.state == EntryState.STOPPED
    assert entry.reason == "contact unsubscribed"


def test_unsubscribing_after_the_step_queued_the_email_still_stops_it(mail):
    handler, pool = mail
    make_journey(WELCOME, on=T0 - dt.timedelta(hours=1))
    leaving = make_contact(email="late@example.com", timezone="Asia/Shanghai")
    _created_at([leaving], T0 + dt.timedelta(hours=4))  # 22:00 in Shanghai: quiet hours
    run(T0 + dt.timedelta(hours=4, minutes=1), pool)
    assert Delivery.objects.get().state == DeliveryState.QUEUED  # waits for 08:00 local
    Contact.objects.filter(pk=leaving.pk).update(status=ContactStatus.UNSUBSCRIBED)
    run(T0 + dt.timedelta(days=1), pool)
    assert handler.received == []
    assert Delivery.objects.get().state == DeliveryState.SKIPPED


def test_quiet_hours_hold_a_journey_email_until_morning_local_time(mail):
    handler, pool = mail
    make_journey(WELCOME, on=T0 - dt.timedelta(hours=1))
    night = make_contact(email="night@example.com", timezone="Asia/Shanghai")
    _created_at([night], T0 + dt.timedelta(hours=4))
    run(T0 + dt.timedelta(hours=4, minutes=1), pool)
    assert handler.received == []
    delivery = Delivery.objects.get()
    assert delivery.due_at == dt.datetime(2027, 3, 11, 0, 0, tzinfo=dt.UTC)  # 08:00 Shanghai
    run(delivery.due_at, pool)
    assert len(handler.received) == 1


def test_goal_leaves_the_journey_when_the_contact_buys(mail):
    handler, pool = mail
    definition = {**WELCOME, "steps": [*WELCOME["steps"], {"type": "goal", "event": "ordered"}]}
    make_journey(definition, on=T0 - dt.timedelta(hours=1))
    buyer = make_contact(email="buyer@example.com", timezone="UTC")
    _created_at([buyer], T0)
    run(T0 + dt.timedelta(minutes=1), pool)
    make_order(buyer, placed_at=T0 + dt.timedelta(days=1))

    run(T0 + dt.timedelta(days=3), pool)
    run(T0 + dt.timedelta(days=8), pool)

    assert len(handler.received) == 1
    entry = JourneyEntry.objects.get()
    assert entry.state == EntryState.CONVERTED
    assert entry.converted_at == T0 + dt.timedelta(days=3)


def test_tags_fields_points_and_conditions():
    definition = {
        "trigger": {"type": "contact_created"},
        "steps": [
            {"type": "tag", "add": ["new", "vip"], "remove": ["prospect"]},
            {
                "type": "condition",
                "rules": {"field": "country", "op": "eq", "value": "CN"},
                "yes": [{"type": "points", "points": 50, "reason": "hello"}],
                "no": [{"type": "field", "field": "city", "value": "Elsewhere"}],
            },
            {"type": "field", "field": "custom.stage", "value": "onboarded"},
            {"type": "exit"},
            {"type": "tag", "add": ["never"]},
        ],
    }
    from rapport.crm.models import CustomField  # noqa: PLC0415

    CustomField.objects.create(key="stage", label="Stage", type="text")
    make_journey(definition, on=T0 - dt.timedelta(hours=1))
    chinese = make_contact(country="CN", tags=["prospect"])
    french = make_contact(country="FR", city="Lyon")
    _created_at([chinese, french], T0)

    run(T0 + dt.timedelta(minutes=1))

    chinese.refresh_from_db()
    french.refresh_from_db()
    assert chinese.tags == ["new", "vip"]
    assert french.city == "Elsewhere"
    assert chinese.custom == {"stage": "onboarded"}
    assert list(PointsEntry.objects.values_list("contact_id", "points")) == [(chinese.pk, 50)]
    assert "never" not in chinese.tags
    assert set(JourneyEntry.objects.values_list("state", flat=True)) == {EntryState.COMPLETED}


def test_the_contacts_timeline_shows_their_way_through_the_journey():
    """Entered (at the entry's own time), points, then completed or stopped: written in the
    batch's transaction, so a step that ran shows once and one that did not, never."""
    definition = {
        "trigger": {"type": "contact_created"},
        "steps": [
            {"type": "points", "points": 100, "reason": "welcome gift"},
            {"type": "wait", "days": 2},
            {"type": "tag", "add": ["welcomed"]},
        ],
    }
    make_journey(definition, name="Welcome", on=T0 - dt.timedelta(hours=1))
    stays, leaves = make_contact(), make_contact()
    _created_at([stays, leaves], T0)
    run(T0 + dt.timedelta(minutes=1))
    Contact.objects.filter(pk=leaves.pk).update(status=ContactStatus.UNSUBSCRIBED)

    run(T0 + dt.timedelta(days=2, minutes=2))
    run(T0 + dt.timedelta(days=3))  # nothing left to do: no moment twice

    def moments(contact: Contact) -> list[tuple[str, dict[str, object]]]:
        return [
            (event.name, event.data)
            for event in reversed(timeline(contact.pk))
            if event.type == EventType.JOURNEY
        ]

    journey = {"journey": JourneyEntry.objects.get(contact=stays).journey_id}
    named = {**journey, "journey_name": "Welcome"}
    gift = {**named, "points": 100, "reason": "welcome gift"}
    assert moments(stays) == [("entered", named), ("points", gift), ("completed", named)]
    stopped = {**named, "reason": "contact unsubscribed"}
    assert moments(leaves) == [("entered", named), ("points", gift), ("stopped", stopped)]
    entered = next(e for e in timeline(stays.pk) if e.name == "entered")
    assert entered.occurred_at == JourneyEntry.objects.get(contact=stays).entered_at
