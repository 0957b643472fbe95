"""What each kind of step does, for a group of entries at the same step at once.

Executors are set-based (one query per group, not per contact) and write only to the
database, inside the batch's transaction: an email step queues a ``Delivery`` row of the step's
automation campaign (unique per campaign, contact and entry), which the send pipeline then
hands over with its own crash safety; staff emails are an outbox mailed after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db.models import Count

from rapport.accounts.models import User
from rapport.automation.batch import Batch, Work
from rapport.automation.definition import Step
from rapport.automation.models import (
    EntryState,
    NotificationChannel,
    PointsEntry,
    StaffNotification,
)
from rapport.crm.models import Contact, JourneyMoment
from rapport.crm.services import clean_contact_values
from rapport.delivery.models import Delivery, DeliveryState
from rapport.segments.queries import rule_queryset

Executor = Callable[[Batch, Step, list[Work]], None]
COUNTED_STATES = (
    DeliveryState.QUEUED,
    DeliveryState.CLAIMED,
    DeliveryState.SENDING,
    DeliveryState.SENT,
    DeliveryState.DEFERRED,
)


def _next(batch: Batch, work: Work, step: Step) -> str | None:
    return batch.plans[work.journey_id].next_after(step.id)


def _matching(batch: Batch, rules: Any, works: list[Work]) -> set[int]:
    ids = [w.contact_id for w in works]
    return set(rule_queryset(rules, now=batch.now).filter(pk__in=ids).values_list("pk", flat=True))


def wait(batch: Batch, step: Step, works: list[Work]) -> None:
    for work in works:
        batch.done(work, step, "waited", _next(batch, work, step))


def condition(batch: Batch, step: Step, works: list[Work]) -> None:
    matching = _matching(batch, step.params["rules"], works)
    for work in works:
        yes = work.contact_id in matching
        plan = batch.plans[work.journey_id]
        batch.done(work, step, "yes" if yes else "no", plan.branch_start(step, 0 if yes else 1))


def _bucket(work: Work, step: Step, weights: list[int]) -> int:
    """A stable draw per entry and step: a rerun after a crash takes the same branch."""
    digest = hashlib.sha256(f"{work.pk}:{step.id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(weights)
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    return len(weights) - 1


def split(batch: Batch, step: Step, works: list[Work]) -> None:
    if step.params.get("mode", "random") == "random":
        weights = [branch.weight for branch in step.branches]
        for work in works:
            index = _bucket(work, step, weights)
            plan = batch.plans[work.journey_id]
            batch.done(work, step, f"branch {index + 1}", plan.branch_start(step, index))
        return
    undecided = list(works)
    for index, branch in enumerate(step.branches):
        matching = (
            _matching(batch, branch.rules, undecided)
            if branch.rules is not None
            else {w.contact_id for w in undecided}
        )
        for work in [w for w in undecided if w.contact_id in matching]:
            plan = batch.plans[work.journey_id]
            batch.done(work, step, f"branch {index + 1}", plan.branch_start(step, index))
        undecided = [w for w in undecided if w.contact_id not in matching]
    for work in undecided:
        batch.done(work, step, "no branch", _next(batch, work, step))


def email(batch: Batch, step: Step, works: list[Work]) -> None:
    """Queue the step's email, unless the contact may not get marketing mail or is over the
    journey's own cap; the send pipeline checks consent and frequency caps again."""
    journey_id = works[0].journey_id
    plan = batch.plans[journey_id]
    campaign_id = batch.campaigns[(journey_id, step.id)]
    over_cap: set[int] = set()
    if plan.cap_messages and plan.cap_days:
        journey_campaigns = [c for (j, _), c in batch.campaigns.items() if j == journey_id]
        since = batch.now - dt.timedelta(days=plan.cap_days)
        counts = (
            Delivery.objects.filter(
                campaign_id__in=journey_campaigns,
                contact_id__in=[w.contact_id for w in works],
                state__in=COUNTED_STATES,
                due_at__gte=since,
            )
            .values("contact_id")
            .annotate(n=Count("pk"))
            .values_list("contact_id", "n")
        )
        over_cap = {contact for contact, n in counts if n >= plan.cap_messages}
    queued: list[Delivery] = []
    for work in works:
        if work.contact_id not in batch.marketable:
            outcome = "skipped: no consent"
        elif work.contact_id in over_cap:
            outcome = "skipped: journey cap"
        else:
            due = batch.send_time(work.contact_id)
            queued.append(
                Delivery(
                    campaign_id=campaign_id,
                    contact_id=work.contact_id,
                    occurrence=work.pk,
                    due_at=due,
                )
            )
            outcome = "queued"
        batch.done(work, step, outcome, _next(batch, work, step))
    Delivery.objects.bulk_create(queued, ignore_conflicts=True)


def tag(batch: Batch, step: Step, works: list[Work]) -> None:
    add = [str(t) for t in step.params.get("add", [])]
    remove = {str(t) for t in step.params.get("remove", [])}
    changed = []
    for pk, tags in Contact.objects.filter(pk__in=[w.contact_id for w in works]).values_list(
        "pk", "tags"
    ):
        kept = [t for t in tags or [] if t not in remove]
        new = kept + [t for t in add if t not in kept]
        if new != (tags or []):
            changed.append(Contact(pk=pk, tags=new))
    Contact.objects.bulk_update(changed, ["tags"])
    for work in works:
        batch.done(work, step, "tagged", _next(batch, work, step))


def cleaned_field(name: str, value: Any) -> dict[str, Any]:
    """A field step's change, checked: ``{"city": …}`` or ``{"custom": {key: …}}``."""
    if name.startswith("custom."):
        return clean_contact_values({"custom": {name.removeprefix("custom."): value}})
    return clean_contact_values({name: value})


def update_field(batch: Batch, step: Step, works: list[Work]) -> None:
    name = str(step.params["field"])
    cleaned = cleaned_field(name, step.params["value"])
    ids = [w.contact_id for w in works]
    if name.startswith("custom."):
        rows = Contact.objects.filter(pk__in=ids).values_list("pk", "custom")
        Contact.objects.bulk_update(
            [Contact(pk=pk, custom={**(custom or {}), **cleaned["custom"]}) for pk, custom in rows],
            ["custom"],
        )
    else:
        Contact.objects.filter(pk__in=ids).update(**cleaned)
    for work in works:
        batch.done(work, step, "updated", _next(batch, work, step))


def points(batch: Batch, step: Step, works: list[Work]) -> None:
    amount = int(step.params["points"])
    reason = str(step.params.get("reason") or batch.names[works[0].journey_id])[:200]
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                contact_id=w.contact_id,
                points=amount,
                reason=reason,
                entry_id=w.pk,
                created_at=batch.now,
            )
            for w in works
        ]
    )
    for work in works:
        batch.note(work, JourneyMoment.POINTS, details={"points": amount, "reason": reason})
        batch.done(work, step, f"{amount:+d} points", _next(batch, work, step))


def _staff(recipients: list[str]) -> tuple[list[User], list[str]]:
    """Users named by "role:admin" or user name, and plain addresses."""
    roles = [r.removeprefix("role:") for r in recipients if r.startswith("role:")]
    names = [r for r in recipients if not r.startswith("role:") and "@" not in r]
    users = list(
        User.objects.filter(is_active=True).filter(role__in=roles)
        | User.objects.filter(is_active=True, username__in=names)
    )
    return users, [r for r in recipients if "@" in r]


def notify(batch: Batch, step: Step, works: list[Work]) -> None:
    channel = str(step.params.get("channel") or NotificationChannel.APP)
    users, addresses = _staff([str(r) for r in step.params.get("to", ["role:admin"])])
    journey_id = works[0].journey_id
    notes: list[StaffNotification] = []
    for work in works:
        info = batch.contacts.get(work.contact_id)
        text = _message(
            step, info.email if info else "", info.name if info else "", batch.names[journey_id]
        )
        for user in users:
            address = user.email if channel == NotificationChannel.EMAIL else ""
            if channel == NotificationChannel.EMAIL and not address:
                continue
            notes.append(_note(batch, work, channel, text, user=user, email=address))
        if channel == NotificationChannel.EMAIL:
            notes.extend(_note(batch, work, channel, text, email=a) for a in addresses)
        batch.done(work, step, "notified", _next(batch, work, step))
    StaffNotification.objects.bulk_create(notes)


def _note(
    batch: Batch, work: Work, channel: str, text: str, *, user: User | None = None, email: str = ""
) -> StaffNotification:
    return StaffNotification(
        user=user,
        channel=channel,
        email=email,
        text=text,
        journey_id=work.journey_id,
        contact_id=work.contact_id,
        created_at=batch.now,
    )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _message(step: Step, email_address: str, name: str, journey: str) -> str:
    values = _Blank(email=email_address, name=name or email_address, journey=journey)
    return str(step.params["message"]).format_map(values)[:500]


def goal(batch: Batch, step: Step, works: list[Work]) -> None:
    """Reached in order without having met it: the journey goes on (goals met earlier move
    the entry here at once, see ``engine``)."""
    for work in works:
        batch.done(work, step, "not met yet", _next(batch, work, step))


def exit_journey(batch: Batch, step: Step, works: list[Work]) -> None:
    for work in works:
        batch.done(work, step, "exit", None)
        batch.finish(work, EntryState.COMPLETED, "exit step")


EXECUTORS: dict[str, Executor] = {
    "wait": wait,
    "condition": condition,
    "split": split,
    "email": email,
    "tag": tag,
    "field": update_field,
    "points": points,
    "notify": notify,
    "goal": goal,
    "exit": exit_journey,
}


def group(works: list[Work]) -> dict[tuple[int, str], list[Work]]:
    groups: dict[tuple[int, str], list[Work]] = defaultdict(list)
    for work in works:
        groups[(work.journey_id, work.step)].append(work)
    return groups
