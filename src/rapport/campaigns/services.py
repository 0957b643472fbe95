"""Campaign writes: creating one, and every move of its state machine.

    draft ──► scheduled ──► sending ──► sent
      │           │          │  ▲
      │           ▼          ▼  │
      └──────► cancelled ◄─ paused

A move is checked against the table below inside a row lock, recorded with who made it and
why, and audited; starting to send fixes the template version and queues one delivery row
per recipient (unique per campaign and contact).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.campaigns import timing
from rapport.campaigns.audience import audience_queryset
from rapport.campaigns.models import (
    ABTest,
    ABTestState,
    Campaign,
    CampaignAudience,
    CampaignKind,
    CampaignState,
    CampaignTransition,
    CapAction,
    ScheduleMode,
)
from rapport.campaigns.send_times import BestHours
from rapport.campaigns.timing import QuietHours, Schedule, Window
from rapport.content.models import Workspace
from rapport.content.services import current_version, get_template_for
from rapport.delivery.models import Delivery, DeliveryState
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.lookup import by_id_or_name
from rapport.segments.services import get_segment_for

ALLOWED: dict[str, frozenset[str]] = {
    CampaignState.DRAFT: frozenset({CampaignState.SCHEDULED, CampaignState.SENDING,
                                    CampaignState.CANCELLED}),
    CampaignState.SCHEDULED: frozenset({CampaignState.SENDING, CampaignState.DRAFT,
                                        CampaignState.PAUSED, CampaignState.CANCELLED}),
    CampaignState.SENDING: frozenset({CampaignState.PAUSED, CampaignState.SENT,
                                      CampaignState.CANCELLED}),
    CampaignState.PAUSED: frozenset({CampaignState.SENDING, CampaignState.CANCELLED}),
    # Only to resend rows left unknown by a crash, when the user asks for it.
    CampaignState.SENT: frozenset({CampaignState.SENDING}),
    CampaignState.CANCELLED: frozenset(),
}  # fmt: skip
MATERIALISE_BATCH = 5000


def get_campaign_for(user: User | None, ref: int | str) -> Campaign:
    if user is not None:
        require(user, Perm.VIEW_CONTACTS)
    return by_id_or_name(Campaign.objects.select_related("template", "version"), ref, "campaign")


@transaction.atomic
def create_campaign(
    *,
    name: str,
    template: int | str,
    audience: Sequence[int | str],
    exclude: Sequence[int | str] = (),
    schedule_mode: str = ScheduleMode.NOW,
    send_at: dt.datetime | None = None,
    local_time: dt.time | None = None,
    cap_action: str = CapAction.DEFER,
    transactional: bool = False,
    avoid_quiet_hours: bool = True,
    avoid_holidays: bool = True,
    acting_user: User | None,
) -> Campaign:
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    name = name.strip()
    if not name:
        raise InvalidInput("A campaign needs a name.", field="name")
    if Campaign.objects.filter(name=name).exists():
        raise Conflict(f"There is already a campaign called {name!r}.")
    if not audience:
        raise InvalidInput("Choose at least one segment or list to send to.", field="audience")
    if schedule_mode not in ScheduleMode.values:
        raise InvalidInput(f"{schedule_mode!r} is not a schedule.", field="schedule_mode")
    if schedule_mode == ScheduleMode.AT and send_at is None:
        raise InvalidInput("Say when to send.", field="send_at")
    if schedule_mode == ScheduleMode.LOCAL_TIME and local_time is None:
        raise InvalidInput("Say at what local time to send.", field="local_time")
    if cap_action not in CapAction.values:
        raise InvalidInput(f"{cap_action!r} is not defer or skip.", field="cap_action")
    found_template = get_template_for(None, template)
    current_version(found_template)  # a template with nothing saved cannot be sent
    campaign = Campaign.objects.create(
        name=name,
        template=found_template,
        schedule_mode=schedule_mode,
        send_at=send_at,
        local_time=local_time,
        cap_action=cap_action,
        transactional=transactional,
        avoid_quiet_hours=avoid_quiet_hours,
        avoid_holidays=avoid_holidays,
        created_by=acting_user,
    )
    for refs, excluded in ((audience, False), (exclude, True)):
        for ref in refs:
            segment = get_segment_for(None, ref)
            CampaignAudience.objects.get_or_create(
                campaign=campaign, segment=segment, defaults={"exclude": excluded}
            )
    record_audit(acting_user, "campaign.create", target_type="campaign", target_id=campaign.pk)
    return campaign


def _move(campaign_id: int, to_state: str, *, acting_user: User | None, reason: str) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"There is no campaign {campaign_id}.")
    if to_state not in ALLOWED[campaign.state]:
        raise Conflict(
            f"The campaign {campaign.name!r} is {campaign.state}; it cannot become {to_state}."
        )
    CampaignTransition.objects.create(
        campaign=campaign,
        from_state=campaign.state,
        to_state=to_state,
        reason=reason,
        actor=acting_user,
    )
    record_audit(
        acting_user,
        f"campaign.{to_state}",
        target_type="campaign",
        target_id=campaign.pk,
        detail={"from": campaign.state, "reason": reason},
    )
    campaign.state = to_state
    return campaign


@transaction.atomic
def start_campaign(
    campaign_id: int, *, acting_user: User | None, now: dt.datetime | None = None
) -> Campaign:
    """Fix the version, queue a delivery per recipient and start (or schedule) sending."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    if not Workspace.current().postal_address.strip():
        raise InvalidInput(
            "Set the organisation's postal address first (Settings): the law in most countries "
            "requires it in every marketing email.",
            field="postal_address",
        )
    now = now or timezone.now()
    current = get_campaign_for(None, campaign_id)
    if current.state != CampaignState.DRAFT:
        raise Conflict(
            f"The campaign {current.name!r} is {current.state}; only a draft can be started "
            "(resume a paused one)."
        )
    due = current.send_at if current.schedule_mode == ScheduleMode.AT and current.send_at else now
    # "at" waits as a whole; local times and windows send over hours, row by row as they fall due.
    to_state = CampaignState.SCHEDULED if due > now else CampaignState.SENDING
    campaign = _move(campaign_id, to_state, acting_user=acting_user, reason="started")
    campaign.version = current_version(campaign.template)
    campaign.started_at = now
    campaign.save(update_fields=["state", "version", "started_at"])
    if hasattr(campaign, "ab_test"):
        from rapport.campaigns.experiments import start_test  # noqa: PLC0415 - it builds on us

        start_test(campaign, due_at=due, now=now)
    else:
        queue_deliveries(campaign, due_at=due, now=now)
    return campaign


def schedule_of(campaign: Campaign, start: dt.datetime) -> Schedule:
    """The campaign's own window, else the workspace's, else Tuesday to Thursday 10-14."""
    window = Window()
    for owner in (campaign, Workspace.current()):
        if owner.window_days and owner.window_start and owner.window_end:
            days = frozenset(int(day) for day in owner.window_days)
            window = Window(days, owner.window_start, owner.window_end)
            break
    return Schedule(
        mode=campaign.schedule_mode,
        start=start,
        local_time=campaign.local_time,
        window=window,
        quiet=QuietHours() if campaign.avoid_quiet_hours and not campaign.transactional else None,
        default_zone=settings.TIME_ZONE,
        avoid_holidays=campaign.avoid_holidays and not campaign.transactional,
    )


@dataclass(frozen=True, slots=True)
class Split:
    """How an A/B test takes its share of the audience: ``assign`` picks the test's contacts
    of each block (contact id -> variant label), ``schedules`` holds a variant's own send time."""

    assign: Callable[[list[int]], dict[int, str]]
    schedules: Mapping[str, Schedule]


def queue_deliveries(
    campaign: Campaign,
    *,
    due_at: dt.datetime,
    now: dt.datetime,
    split: Split | None = None,
    variant: str = "",
    after_test: bool = False,
) -> int:
    """One queued row per recipient, each due at its time in the contact's timezone, streamed
    in id order; a rerun adds only the missing. With ``split``, only the test's share of the
    audience gets a row, marked with its variant; ``variant``/``after_test`` mark every row
    (the rest of an A/B test's audience, sent the winner)."""
    schedule = schedule_of(campaign, due_at)
    hours = BestHours(campaign, now=now) if schedule.mode == ScheduleMode.BEST_HOUR else None
    queued = 0
    last_id = 0
    audience = audience_queryset(campaign, now=now)
    if after_test:  # the test's recipients have their message already
        audience = audience.exclude(
            pk__in=Delivery.objects.filter(campaign=campaign).values("contact_id")
        )
    rows_of = audience.order_by("pk").values_list("pk", "timezone", "country")
    while True:
        rows = list(rows_of.filter(pk__gt=last_id)[:MATERIALISE_BATCH])
        if not rows:
            return queued
        last_id = rows[-1][0]
        labels = split.assign([row[0] for row in rows]) if split is not None else {}
        if split is not None:
            rows = [row for row in rows if row[0] in labels]
        best = hours.for_contacts([row[0] for row in rows]) if hours is not None else {}
        Delivery.objects.bulk_create(
            [
                Delivery(
                    campaign=campaign,
                    contact_id=cid,
                    variant=labels.get(cid, variant),
                    after_test=after_test,
                    due_at=timing.due_at(
                        split.schedules.get(labels[cid], schedule) if split else schedule,
                        contact_id=cid,
                        timezone_name=zone_name,
                        country=country,
                        best_hour=best.get(cid),
                    ),
                )
                for cid, zone_name, country in rows
            ],
            ignore_conflicts=True,
        )
        queued += len(rows)


@transaction.atomic
def pause_campaign(campaign_id: int, *, acting_user: User | None, reason: str = "") -> Campaign:
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    campaign = _move(campaign_id, CampaignState.PAUSED, acting_user=acting_user, reason=reason)
    campaign.save(update_fields=["state"])
    # Rows a worker has taken but not handed over go back: it stops between two messages.
    Delivery.objects.filter(campaign=campaign, state=DeliveryState.CLAIMED).update(
        state=DeliveryState.QUEUED
    )
    return campaign


@transaction.atomic
def resume_campaign(campaign_id: int, *, acting_user: User | None) -> Campaign:
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    campaign = _move(campaign_id, CampaignState.SENDING, acting_user=acting_user, reason="resumed")
    campaign.save(update_fields=["state"])
    return campaign


@transaction.atomic
def cancel_campaign(campaign_id: int, *, acting_user: User | None) -> Campaign:
    """Stop for good; rows not yet handed over are skipped, sent ones stay sent."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    campaign = _move(
        campaign_id, CampaignState.CANCELLED, acting_user=acting_user, reason="cancelled"
    )
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["state", "finished_at"])
    Delivery.objects.filter(
        campaign=campaign,
        state__in=[DeliveryState.QUEUED, DeliveryState.DEFERRED, DeliveryState.CLAIMED],
    ).update(state=DeliveryState.SKIPPED, response="campaign cancelled")
    ABTest.objects.filter(
        campaign=campaign, state__in=[ABTestState.DRAFT, ABTestState.TESTING]
    ).update(state=ABTestState.CANCELLED)
    return campaign


@transaction.atomic
def resend_unknown(campaign_id: int, *, acting_user: User | None) -> int:
    """Queue again the rows whose hand-off was cut by a crash, because the person says so:
    some of them may have arrived already, and those people get a second copy. Returns how
    many were queued; a finished campaign goes back to sending for them."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    campaign = get_campaign_for(None, campaign_id)
    unknown = Delivery.objects.filter(campaign=campaign, state=DeliveryState.UNKNOWN)
    count = unknown.update(
        state=DeliveryState.QUEUED, due_at=timezone.now(), response="resent on request"
    )
    if count and campaign.state == CampaignState.SENT:
        _move(campaign.pk, CampaignState.SENDING, acting_user=acting_user,
              reason=f"resending {count} unknown")  # fmt: skip
        Campaign.objects.filter(pk=campaign.pk).update(
            state=CampaignState.SENDING, finished_at=None
        )
    record_audit(
        acting_user,
        "campaign.resend_unknown",
        target_type="campaign",
        target_id=campaign.pk,
        detail={"rows": count},
    )
    return count


def finish_if_done(campaign_id: int) -> bool:
    """Mark a sending campaign sent once no row is waiting or in flight, and no A/B test is
    still waiting to send its winner to the rest."""
    waiting = Delivery.objects.filter(
        campaign_id=campaign_id,
        state__in=[
            DeliveryState.QUEUED,
            DeliveryState.DEFERRED,
            DeliveryState.CLAIMED,
            DeliveryState.SENDING,
        ],
    )
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.state != CampaignState.SENDING or waiting.exists():
            return False
        if campaign.kind == CampaignKind.AUTOMATION:  # sends as long as its journey is on
            return False
        if ABTest.objects.filter(campaign_id=campaign_id, state=ABTestState.TESTING).exists():
            return False
        _move(campaign_id, CampaignState.SENT, acting_user=None, reason="every recipient done")
        Campaign.objects.filter(pk=campaign_id).update(
            state=CampaignState.SENT, finished_at=timezone.now()
        )
    return True


STATUS_KEYS = ("sent", "failed", "deferred", "unknown", "skipped", "capped")


def campaign_status(campaign: Campaign) -> dict[str, Any]:
    """``{"state", "audience", "sent", "failed", "deferred", "unknown", "skipped", "capped"}``;
    queued and in-flight rows count in the audience only; a row capped for good counts as
    capped only."""
    counts = dict(
        Delivery.objects.filter(campaign=campaign)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    status: dict[str, Any] = {"state": campaign.state, "audience": sum(counts.values())}
    status.update({key: counts.get(key, 0) for key in STATUS_KEYS})
    # Capped: held back by a frequency cap at least once, whatever became of them since.
    status["capped"] = Delivery.objects.filter(campaign=campaign, was_capped=True).count()
    return status


def dispatch_due(now: dt.datetime) -> list[int]:
    """What the scheduler does every minute: a scheduled campaign whose time has come starts
    sending, and every sending campaign with due rows (new, or deferred and now due) gets a
    send task. Returns the campaigns a task was queued for; queuing twice is harmless."""
    from rapport.delivery.tasks import send_campaign  # noqa: PLC0415 - delivery builds on us

    for campaign_id in Campaign.objects.filter(
        state=CampaignState.SCHEDULED, send_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            _move(campaign_id, CampaignState.SENDING, acting_user=None, reason="send time")
            Campaign.objects.filter(pk=campaign_id).update(state=CampaignState.SENDING)
    due = list(
        Delivery.objects.filter(
            campaign__state=CampaignState.SENDING,
            state__in=[DeliveryState.QUEUED, DeliveryState.DEFERRED],
            due_at__lte=now,
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    for campaign_id in due:
        send_campaign.enqueue(campaign_id)
    return due
