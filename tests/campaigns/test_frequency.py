"""Frequency tests: random groups held at their caps, compared on revenue and unsubscribes per
contact, with a recommended cap and no automatic change."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.campaigns.caps import Cap, apply_caps, caps_for
from rapport.campaigns.frequency import (
    GroupCap,
    cancel_frequency_test,
    evaluate,
    finish_due,
    result_of,
    start_frequency_test,
)
from rapport.campaigns.models import (
    Campaign,
    FrequencyMember,
    FrequencyTest,
    FrequencyTestState,
)
from rapport.content.services import TemplateContent, create_template
from rapport.crm.models import Contact, ContactStatus, Event, EventType
from rapport.delivery.models import Delivery, DeliveryState
from rapport.errors import Conflict, InvalidInput
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact, make_order

pytestmark = pytest.mark.django_db

START = timezone.now() - dt.timedelta(days=10)


def _segment(count: int, name: str = "customers") -> list[Contact]:
    people = [make_contact(email=f"{name}{n}@example.com") for n in range(count)]
    segment = Segment.objects.create(name=name, kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(SegmentMember(segment=segment, contact=p) for p in people)
    return people


def _start(name: str = "cadence", weeks: int = 4) -> FrequencyTest:
    return start_frequency_test(
        name=name, segment="customers", caps=[GroupCap(1, 7), GroupCap(3, 7)], weeks=weeks,
        acting_user=None, now=START,
    )  # fmt: skip


def _groups(test: FrequencyTest) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for contact_id, group in FrequencyMember.objects.filter(test=test).values_list(
        "contact_id", "group"
    ):
        groups.setdefault(group, []).append(contact_id)
    return groups


def test_groups_are_random_balanced_and_skip_who_may_not_get_mail() -> None:
    people = _segment(101)
    Contact.objects.filter(pk=people[0].pk).update(status=ContactStatus.UNSUBSCRIBED)
    test = _start()
    sizes = Counter(FrequencyMember.objects.filter(test=test).values_list("group", flat=True))
    assert sizes == {"A": 50, "B": 50}
    assert not FrequencyMember.objects.filter(contact=people[0]).exists()
    # A second test of the same people leaves those in the running one alone.
    second = _start(name="again")
    assert not FrequencyMember.objects.filter(test=second).exists()


def test_a_running_test_holds_each_group_at_its_cap() -> None:
    people = _segment(20)
    test = _start()
    groups = _groups(test)
    create_template(name="T", content=TemplateContent(subject="S", html="<p>x</p>"),
                    acting_user=None)  # fmt: skip
    campaign = Campaign.objects.create(name="weekly", template_id=1)
    chooser = Contact.objects.get(pk=groups["A"][1])
    chooser.cap_messages, chooser.cap_days = 5, 7  # the contact's own choice wins
    chooser.save()
    caps = caps_for(campaign, [groups["A"][0], groups["B"][0], chooser.pk], now=timezone.now())
    assert caps == {groups["A"][0]: Cap(1, 7), groups["B"][0]: Cap(3, 7), chooser.pk: Cap(5, 7)}
    # One email sent to each this week: A is at its cap, B is not.
    earlier = Campaign.objects.create(name="earlier", template_id=1)
    for contact_id in (groups["A"][0], groups["B"][0]):
        Delivery.objects.create(campaign=earlier, contact_id=contact_id, state=DeliveryState.SENT,
                                due_at=timezone.now(), sent_at=timezone.now())  # fmt: skip
    decision = apply_caps(campaign, [(1, groups["A"][0]), (2, groups["B"][0])],
                          now=timezone.now())  # fmt: skip
    assert decision.allowed == [2] and list(decision.held) == [1]
    # After the test, the workspace's default (B2C: 2 a week) applies again.
    later = test.ends_at + dt.timedelta(minutes=1)
    assert caps_for(campaign, [groups["A"][0]], now=later) == {groups["A"][0]: Cap(2, 7)}
    assert len(people) == 20


def _orders(contact_ids: list[int], amount: str) -> None:
    for contact_id in contact_ids:
        make_order(Contact.objects.get(pk=contact_id), total=Decimal(amount),
                   placed_at=START + dt.timedelta(days=2))  # fmt: skip


def _unsubscribes(contact_ids: list[int]) -> None:
    Event.objects.bulk_create(
        Event(contact_id=cid, type=EventType.UNSUBSCRIBED, occurred_at=START + dt.timedelta(days=3))
        for cid in contact_ids
    )


def test_the_result_recommends_the_cap_that_earns_more_without_losing_people() -> None:
    _segment(200)
    test = _start()
    groups = _groups(test)
    _orders(groups["A"][:25], "10.00")
    _orders(groups["B"][:40], "30.00")
    make_order(
        Contact.objects.get(pk=groups["B"][50]),
        total=Decimal("500"),
        placed_at=START - dt.timedelta(days=1),
    )  # before the test: not counted
    _unsubscribes(groups["A"][90:92])
    _unsubscribes(groups["B"][90:93])
    result = evaluate(test, now=timezone.now())
    rows = {row["label"]: row for row in result["groups"]}
    assert rows["A"]["revenue_per_contact"] == pytest.approx(250 / 100)
    assert rows["B"]["revenue_per_contact"] == pytest.approx(1200 / 100)
    assert (rows["A"]["unsubscribes"], rows["B"]["unsubscribes"]) == (2, 3)
    assert rows["B"]["cap"] == "3/7"
    (comparison,) = result["comparisons"]
    assert comparison["revenue_significant"] and comparison["revenue_p"] < 0.001
    assert not comparison["unsubscribe_significant"]
    assert (result["recommended"], result["verdict"]) == ("B", "better")

    _unsubscribes(groups["B"][60:90])  # now B loses many more people
    traded = evaluate(test, now=timezone.now())
    assert (traded["recommended"], traded["verdict"]) == ("A", "trade_off")
    assert traded["trade_off"] == ["B"]


def test_a_test_finishes_by_itself_and_keeps_its_result() -> None:
    _segment(10)
    test = _start()
    assert result_of(test)["verdict"] == "no_difference"
    assert finish_due(timezone.now()) == []
    assert finish_due(test.ends_at) == [test.pk]
    test.refresh_from_db()
    assert test.state == FrequencyTestState.FINISHED
    assert test.result["groups"][0]["contacts"] == 5
    with pytest.raises(Conflict):
        cancel_frequency_test(test.pk, acting_user=None)


def test_starting_a_test_checks_what_it_is_given() -> None:
    _segment(4)
    with pytest.raises(InvalidInput, match="2 to 4 groups"):
        start_frequency_test(name="x", segment="customers", caps=[GroupCap(1, 7)],
                             acting_user=None)  # fmt: skip
    with pytest.raises(InvalidInput, match="Group 2: 0 emails in 7 days"):
        start_frequency_test(name="x", segment="customers",
                             caps=[GroupCap(1, 7), GroupCap(0, 7)], acting_user=None)  # fmt: skip
    with pytest.raises(InvalidInput, match="1 to 26 weeks"):
        _start(weeks=52)
    _start()
    with pytest.raises(Conflict, match="already a frequency test"):
        _start()
    cancelled = cancel_frequency_test(FrequencyTest.objects.get().pk, acting_user=None)
    assert cancelled.state == FrequencyTestState.CANCELLED and cancelled.result["groups"]
