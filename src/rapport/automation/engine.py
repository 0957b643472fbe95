"""The journey engine: what the scheduler runs every minute, and ``rapport tick --at``.

A tick fires the triggers of every enabled journey, then takes due entries in batches. A batch
is one transaction: its entries are locked (``skip_locked`` on PostgreSQL, so several workers
share the work; SQLite serialises writers), their steps run group by group (an entry goes on
through as many instant steps as it can), and the effects, one ``StepRun`` per executed step
(unique per entry and seq) and the entries' new positions commit together. A crash anywhere
in a batch rolls all of it back, so a step never runs twice and is never lost. Everything takes
``now``: the clock is injected, and a tick at any instant runs exactly what is due then.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Max

from rapport.automation import triggers
from rapport.automation.batch import EVENT_COLUMNS, Batch, ContactInfo, Work
from rapport.automation.definition import Plan, parse_definition
from rapport.automation.models import (
    START,
    EntryState,
    Journey,
    JourneyEmail,
    JourneyEntry,
    JourneyState,
    NotificationChannel,
    StaffNotification,
    StepRun,
)
from rapport.automation.steps import EXECUTORS, group
from rapport.crm.bulk import insert_rows
from rapport.crm.engagement import human_clicks
from rapport.crm.models import (
    SUPPRESSED_STATUSES,
    Contact,
    ContactStatus,
    Event,
    JourneyMoment,
    Order,
)
from rapport.crm.names import display_name
from rapport.delivery.suppressions import suppressed_among
from rapport.errors import RapportError

log = logging.getLogger(__name__)
MAX_ROUNDS = 100  # instant steps one entry may run in one batch (the tree is acyclic anyway)
_plans: dict[int, tuple[dt.datetime, Plan]] = {}  # journey id -> (its updated_at, its plan)

# Tests set this to fail a batch after its effects and before its advance is written.
before_commit: Callable[[Batch], None] | None = None


@dataclass(slots=True)
class TickReport:
    at: dt.datetime
    entered: dict[str, int] = field(default_factory=dict)
    entries: int = 0  # entries moved
    steps: int = 0  # steps executed
    notified: int = 0  # staff emails sent

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "entered": self.entered,
            "entries": self.entries,
            "steps": self.steps,
            "notified": self.notified,
        }


def plan_of(journey: Journey) -> Plan:
    cached = _plans.get(journey.pk)
    if cached is None or cached[0] != journey.updated_at:
        cached = _plans[journey.pk] = (journey.updated_at, parse_definition(journey.definition))
    return cached[1]


def tick(now: dt.datetime) -> TickReport:
    """Everything due at ``now``: triggers, then steps, then staff emails."""
    report = TickReport(now)
    report.entered = fire_triggers(now)
    report.entries, report.steps = run_due_steps(now)
    report.notified = mail_staff_notifications(now)
    return report


def fire_triggers(now: dt.datetime) -> dict[str, int]:
    entered: dict[str, int] = {}
    for journey in Journey.objects.filter(state=JourneyState.ENABLED).order_by("pk"):
        try:
            with transaction.atomic():
                entered[journey.name] = triggers.fire(journey, plan_of(journey), now)
        except RapportError as error:  # a segment it names was deleted, …
            log.warning("journey %r: trigger not run: %s", journey.name, error.message)
    return entered


def run_due_steps(now: dt.datetime, *, batch_size: int | None = None) -> tuple[int, int]:
    """Batches until nothing is due; returns (entries moved, steps executed)."""
    moved = executed = 0
    while True:
        entries, steps = process_batch(now, batch_size or settings.JOURNEY_BATCH)
        if not entries:
            return moved, executed
        moved += entries
        executed += steps


def _load(now: dt.datetime, size: int) -> list[Work]:
    rows = (
        JourneyEntry.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(state=EntryState.ACTIVE, due_at__lte=now, journey__state=JourneyState.ENABLED)
        .order_by("due_at", "pk")
        .values_list("pk", "journey_id", "contact_id", "step", "seq", "entered_at", "due_at")
    )
    return [Work(*row) for row in rows[:size]]


def _batch(works: list[Work], now: dt.datetime) -> Batch:
    journeys = Journey.objects.filter(pk__in={w.journey_id for w in works})
    contact_ids = {w.contact_id for w in works}
    contacts: dict[int, ContactInfo] = {}
    for (
        pk,
        email,
        zone,
        country,
        status,
        birthday,
        custom,
        given,
        family,
        locale,
    ) in Contact.objects.filter(pk__in=contact_ids).values_list(
        "pk",
        "email",
        "timezone",
        "country",
        "status",
        "birthday",
        "custom",
        "given_name",
        "family_name",
        "locale",
    ):
        name = display_name(given, family, locale)
        contacts[pk] = ContactInfo(email, zone, country, status, birthday, custom or {}, name)
    suppressed = suppressed_among(c.email for c in contacts.values())
    return Batch(
        now=now,
        plans={j.pk: plan_of(j) for j in journeys},
        names={j.pk: j.name for j in journeys},
        contacts=contacts,
        marketable={
            pk
            for pk, c in contacts.items()
            if c.status == ContactStatus.SUBSCRIBED and c.email not in suppressed
        },
        campaigns={
            (journey_id, step): campaign_id
            for journey_id, step, campaign_id in JourneyEmail.objects.filter(
                journey_id__in={w.journey_id for w in works}
            ).values_list("journey_id", "step", "campaign_id")
        },
        suppressed={pk for pk, c in contacts.items() if c.email in suppressed},
    )


def process_batch(now: dt.datetime, size: int) -> tuple[int, int]:
    """One batch in one transaction; returns (entries moved, steps executed)."""
    with transaction.atomic():
        works = _load(now, size)
        if not works:
            return 0, 0
        batch = _batch(works, now)
        _stop_the_unreachable(batch, works)
        _apply_goals(batch, works)
        for _round in range(MAX_ROUNDS):
            due = [w for w in works if w.state == EntryState.ACTIVE and w.due_at <= now]
            if not due:
                break
            for (journey_id, step_id), members in group(due).items():
                plan = batch.plans[journey_id]
                if step_id == START:
                    for work in members:
                        batch.note(work, JourneyMoment.ENTERED, at=work.entered_at)
                        batch.arrive(work, plan.first)
                    continue
                step = plan.by_id[step_id]
                EXECUTORS[step.type](batch, step, members)
        if before_commit is not None:
            before_commit(batch)
        StepRun.objects.bulk_create(batch.runs)
        insert_rows(Event, EVENT_COLUMNS, batch.events)
        _write_positions(works)
    return len(works), len(batch.runs)


def _stop_the_unreachable(batch: Batch, works: list[Work]) -> None:
    """Contacts who unsubscribed, bounced, complained or are suppressed get nothing more from
    any journey; an entry whose step was removed by an edit stops there."""
    for work in works:
        info = batch.contacts.get(work.contact_id)
        plan = batch.plans[work.journey_id]
        if info is not None and info.status in SUPPRESSED_STATUSES:
            batch.finish(work, EntryState.STOPPED, f"contact {info.status}")
        elif work.contact_id in batch.suppressed:
            batch.finish(work, EntryState.STOPPED, "address suppressed")
        elif work.step != START and work.step not in plan.by_id:
            batch.finish(work, EntryState.STOPPED, f"step {work.step} was removed")


def _apply_goals(batch: Batch, works: list[Work]) -> None:
    """An entry whose contact bought (or clicked one of the journey's emails) since entering
    jumps to the goal: it leaves, or goes on with the steps after the goal."""
    for journey_id, plan in batch.plans.items():
        goals = plan.goal_events
        candidates = [
            w for w in works if w.journey_id == journey_id and w.state == EntryState.ACTIVE
        ]
        if not goals or not candidates:
            continue
        order = {step.id: n for n, (_, step) in enumerate(plan.walk())}
        met = {
            event: _latest(event, batch, journey_id, candidates) for event in set(goals.values())
        }
        for work in candidates:
            position = order.get(work.step, -1)
            for goal_id, event in goals.items():
                latest = met[event].get(work.contact_id)
                if latest is not None and latest >= work.entered_at and position <= order[goal_id]:
                    work.converted_at = batch.now
                    batch.done(
                        work, plan.by_id[goal_id], f"goal met: {event}", plan.next_after(goal_id)
                    )
                    break


def _latest(event: str, batch: Batch, journey_id: int, works: list[Work]) -> dict[int, dt.datetime]:
    since = min(w.entered_at for w in works)
    ids = [w.contact_id for w in works]
    if event == "ordered":
        rows = Order.objects.filter(
            contact_id__in=ids, placed_at__gte=since, placed_at__lte=batch.now
        )
        latest = rows.values("contact_id").annotate(at=Max("placed_at"))
        return {row["contact_id"]: row["at"] for row in latest}
    campaigns = [c for (j, _), c in batch.campaigns.items() if j == journey_id]
    clicks = Event.objects.filter(
        human_clicks(),  # security scanners' clicks are not people's
        contact_id__in=ids,
        campaign_id__in=campaigns,
        occurred_at__gte=since,
        occurred_at__lte=batch.now,
    )
    return {
        row["contact_id"]: row["at"]
        for row in clicks.values("contact_id").annotate(at=Max("occurred_at"))
    }


def _write_positions(works: list[Work]) -> None:
    """Every entry's new position in one prepared statement run for the whole batch."""
    table = connection.ops.quote_name(JourneyEntry._meta.db_table)
    names = ("step", "seq", "due_at", "state", "finished_at", "converted_at", "reason")
    sets = ", ".join(f"{connection.ops.quote_name(n)} = %s" for n in names)
    sql = f"UPDATE {table} SET {sets} WHERE id = %s"  # noqa: S608 - names from the model
    stamp = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (
                    w.step,
                    w.seq,
                    stamp(w.due_at),
                    w.state,
                    stamp(w.finished_at),
                    stamp(w.converted_at),
                    w.reason[:200],
                    w.pk,
                )
                for w in works
            ],
        )


def mail_staff_notifications(now: dt.datetime) -> int:
    """Send staff emails whose step has committed (at least once: a crash between the send
    and its mark sends that one again, which is better than losing it)."""
    sent = 0
    pending = StaffNotification.objects.filter(
        channel=NotificationChannel.EMAIL, sent_at__isnull=True
    ).order_by("pk")
    for note in pending[:500]:
        try:
            send_mail("Rapport: journey notification", note.text, None, [note.email])
        except OSError as error:
            log.warning("staff notification %s not sent: %s", note.pk, error)
            break
        StaffNotification.objects.filter(pk=note.pk).update(sent_at=now)
        sent += 1
    return sent
