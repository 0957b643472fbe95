"""Frequency tests: how often should these people hear from us?

A segment's contacts (or a share of them) are split at random into 2 to 4 groups (seeded
blocked randomisation, ``assignment``), and each group is held at its own frequency cap
(``caps.caps_for`` puts a running test's cap above the segment's and the workspace's; only the
contact's own choice still wins) for ``weeks``. Then the groups are compared on what more or
fewer emails do to the business over the period: **revenue per contact** (every order they
placed, whatever its attribution: an email that is not sent cannot be clicked, but it may still
remind someone to shop) by Welch's t-test, and **unsubscribes per contact** by the
two-proportion z-test, each challenger against group A at the test's level (Bonferroni).

There is no automatic winner: the result recommends a cap, and the person changes the
workspace's or the segment's cap if they agree. The recommendation is a challenger that earned
significantly more without significantly more unsubscribes; a challenger that earned more but
lost significantly more people is reported as a trade-off; otherwise A's cap stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.campaigns import stats
from rapport.campaigns.assignment import BlockedAssignment, new_seed
from rapport.campaigns.audience import may_receive_marketing
from rapport.campaigns.models import (
    FrequencyGroup,
    FrequencyMember,
    FrequencyTest,
    FrequencyTestState,
)
from rapport.crm.models import Event, EventType, Order
from rapport.delivery.models import Delivery, DeliveryState
from rapport.errors import Conflict, InvalidInput
from rapport.lookup import by_id_or_name
from rapport.segments.queries import segment_queryset
from rapport.segments.services import get_segment_for

LABELS = "ABCD"
MOST_WEEKS = 26
BATCH = 5000


@dataclass(frozen=True, slots=True)
class GroupCap:
    messages: int
    days: int

    @classmethod
    def parse(cls, text: str) -> GroupCap | None:
        """``"2/7"`` (emails/days) -> a cap; None when it is not written so."""
        messages, _slash, days = text.strip().partition("/")
        if not (messages.isdigit() and days.isdigit()):
            return None
        return cls(int(messages), int(days))


def get_frequency_test_for(user: User | None, ref: int | str) -> FrequencyTest:
    if user is not None:
        require(user, Perm.VIEW_CONTACTS)
    return by_id_or_name(FrequencyTest.objects.select_related("segment"), ref, "frequency test")


@transaction.atomic
def start_frequency_test(
    *,
    name: str,
    segment: int | str,
    caps: Sequence[GroupCap],
    weeks: int = 6,
    share: int = 100,
    confidence: float = 0.95,
    acting_user: User | None,
    now: dt.datetime | None = None,
) -> FrequencyTest:
    """Split the segment's contacts who may get marketing mail into groups held at ``caps``
    (the first is the control, A). Contacts already in a running test stay where they are."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    now = now or timezone.now()
    name = name.strip()
    if not name:
        raise InvalidInput("A frequency test needs a name.", field="name")
    if FrequencyTest.objects.filter(name=name).exists():
        raise Conflict(f"There is already a frequency test called {name!r}.")
    if not 2 <= len(caps) <= len(LABELS):
        raise InvalidInput("A frequency test has 2 to 4 groups.", field="caps")
    for number, cap in enumerate(caps, start=1):
        if not (1 <= cap.messages <= 100 and 1 <= cap.days <= 365):
            raise InvalidInput(
                f"Group {number}: {cap.messages} emails in {cap.days} days is not a cap "
                "(1-100 emails in 1-365 days).",
                field="caps",
            )
    if not 1 <= weeks <= MOST_WEEKS:
        raise InvalidInput(f"Run a test for 1 to {MOST_WEEKS} weeks, not {weeks}.", field="weeks")
    if not len(caps) <= share <= 100:
        raise InvalidInput(f"A share of {share} % is outside {len(caps)}-100 %.", field="share")
    if not 0.8 <= confidence <= 0.999:
        raise InvalidInput(f"A confidence level of {confidence} is outside 0.80-0.999.",
                           field="confidence")  # fmt: skip
    found = get_segment_for(None, segment)
    test = FrequencyTest.objects.create(
        name=name, segment=found, share=share, weeks=weeks, confidence=confidence,
        seed=new_seed(), started_at=now, ends_at=now + dt.timedelta(weeks=weeks),
        created_by=acting_user,
    )  # fmt: skip
    labels = LABELS[: len(caps)]
    FrequencyGroup.objects.bulk_create(
        FrequencyGroup(test=test, label=label, cap_messages=cap.messages, cap_days=cap.days)
        for label, cap in zip(labels, caps, strict=True)
    )
    assignment = BlockedAssignment(labels, share_percent=share, seed=test.seed)
    busy = FrequencyMember.objects.filter(
        test__state=FrequencyTestState.RUNNING, test__ends_at__gt=now
    ).exclude(test=test)
    people = (
        segment_queryset(found, now=now)
        .filter(may_receive_marketing())
        .exclude(pk__in=busy.values("contact_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last_id = 0
    while ids := list(people.filter(pk__gt=last_id)[:BATCH]):
        last_id = ids[-1]
        FrequencyMember.objects.bulk_create(
            FrequencyMember(test=test, contact_id=cid, group=label)
            for cid, label in assignment.assign(ids).items()
        )
    record_audit(acting_user, "frequency_test.start", target_type="frequency_test",
                 target_id=test.pk, detail={"groups": len(caps), "weeks": weeks})  # fmt: skip
    return test


@transaction.atomic
def cancel_frequency_test(test_id: int, *, acting_user: User | None) -> FrequencyTest:
    """Stop holding the groups at their caps; what was measured so far is kept."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    test = get_frequency_test_for(None, test_id)
    if test.state != FrequencyTestState.RUNNING:
        raise Conflict(f"The frequency test {test.name!r} is {test.state} already.")
    test.result = evaluate(test, now=timezone.now())
    test.state = FrequencyTestState.CANCELLED
    test.save(update_fields=["result", "state"])
    record_audit(acting_user, "frequency_test.cancel", target_type="frequency_test",
                 target_id=test.pk)  # fmt: skip
    return test


def finish_due(now: dt.datetime) -> list[int]:
    """The scheduler's job: tests whose weeks are over keep their result and stop."""
    finished = []
    for test in FrequencyTest.objects.filter(state=FrequencyTestState.RUNNING, ends_at__lte=now):
        test.result = evaluate(test, now=now)
        test.state = FrequencyTestState.FINISHED
        test.save(update_fields=["result", "state"])
        finished.append(test.pk)
    return finished


def result_of(test: FrequencyTest, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The kept result of an ended test, or the numbers so far of a running one."""
    if test.state != FrequencyTestState.RUNNING and test.result:
        return dict(test.result)
    return evaluate(test, now=now or timezone.now())


def evaluate(test: FrequencyTest, *, now: dt.datetime) -> dict[str, Any]:
    """Per group: contacts, emails sent, revenue and unsubscribes per contact over the period
    so far; each challenger against A; and the recommended cap."""
    until = min(now, test.ends_at)
    period = (test.started_at, until)
    groups = list(test.groups.all())
    revenue_arms: list[stats.Arm] = []
    unsubscribe_arms: list[stats.Arm] = []
    rows = []
    for group in groups:
        members = FrequencyMember.objects.filter(test=test, group=group.label).values("contact_id")
        size = members.count()
        totals = [
            float(total)
            for total in Order.objects.filter(contact_id__in=members, placed_at__range=period)
            .values("contact_id")
            .annotate(spent=Sum("total"))
            .values_list("spent", flat=True)
            if total
        ]
        left = (
            Event.objects.filter(
                type=EventType.UNSUBSCRIBED, contact_id__in=members, occurred_at__range=period
            )
            .values("contact_id")
            .distinct()
            .count()
        )
        sent = Delivery.objects.filter(
            contact_id__in=members, state=DeliveryState.SENT, sent_at__range=period
        ).count()
        sample = stats.Sample.of(totals, n=size)
        revenue_arms.append(stats.Arm(group.label, sample=sample))
        unsubscribe_arms.append(stats.Arm(group.label, rate=(left, size)))
        rows.append({
            "label": group.label, "cap": f"{group.cap_messages}/{group.cap_days}",
            "cap_messages": group.cap_messages, "cap_days": group.cap_days,
            "contacts": size, "emails_per_contact": sent / size if size else 0.0,
            "revenue_per_contact": sample.mean, "buyers": sample.nonzero,
            "unsubscribes": left, "unsubscribe_rate": left / size if size else 0.0,
        })  # fmt: skip
    revenue = stats.decide(revenue_arms, confidence=test.confidence)
    unsubscribes = stats.decide(unsubscribe_arms, confidence=test.confidence)
    comparisons = []
    for group in groups[1:]:
        r, u = revenue.comparisons[group.label], unsubscribes.comparisons[group.label]
        comparisons.append({
            "label": group.label,
            "revenue_difference": r.difference, "revenue_low": r.interval.low,
            "revenue_high": r.interval.high, "revenue_p": r.p_value,
            "revenue_significant": r.significant, "revenue_note": r.note,
            "unsubscribe_difference": u.difference, "unsubscribe_low": u.interval.low,
            "unsubscribe_high": u.interval.high, "unsubscribe_p": u.p_value,
            "unsubscribe_significant": u.significant,
        })  # fmt: skip
    safe: dict[str, Any] = stats.json_safe({
        "from": test.started_at.isoformat(),
        "until": until.isoformat(),
        "confidence": test.confidence,
        "alpha_per_comparison": revenue.adjusted_alpha,
        "groups": rows,
        "comparisons": comparisons,
        **recommend(comparisons),
    })  # fmt: skip
    return safe


def recommend(comparisons: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``{"recommended": label, "verdict": better|trade_off|no_difference}``."""
    earned_more = [c for c in comparisons
                   if c["revenue_significant"] and c["revenue_difference"] > 0]  # fmt: skip
    clean = [c for c in earned_more
             if not (c["unsubscribe_significant"] and c["unsubscribe_difference"] > 0)]  # fmt: skip
    if clean:
        best = max(clean, key=lambda c: c["revenue_difference"])
        return {"recommended": best["label"], "verdict": "better"}
    if earned_more:
        return {"recommended": "A", "verdict": "trade_off",
                "trade_off": [c["label"] for c in earned_more]}  # fmt: skip
    return {"recommended": "A", "verdict": "no_difference"}
