"""Reads: the journey list and each journey's state, step by step.

Conversions and revenue are the orders attributed to one of the journey's campaigns: the
"ordered" events whose ``campaign_id`` is an email step's campaign (the tracking branch's
attribution writes them), with the order's total as revenue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.automation.definition import Step, parse_definition
from rapport.automation.models import (
    EntryState,
    Journey,
    JourneyEmail,
    JourneyEntry,
    StaffNotification,
    StepRun,
)
from rapport.crm.models import Event, EventType
from rapport.delivery.models import Delivery, DeliveryState

DEEPEST_INDENT = 6  # app.css indents steps up to this depth, deeper ones no further


def journey_list_for(user: User | None) -> list[dict[str, Any]]:
    if user is not None:
        require(user, Perm.VIEW_CONTACTS)
    active = dict(
        JourneyEntry.objects.filter(state=EntryState.ACTIVE)
        .values("journey_id")
        .annotate(n=Count("pk"))
        .values_list("journey_id", "n")
    )
    return [
        {
            "id": journey.pk,
            "name": journey.name,
            "state": journey.state,
            "trigger": str(journey.definition.get("trigger", {}).get("type", "")),
            "reentry": journey.reentry,
            "recipe": journey.recipe,
            "active": active.get(journey.pk, 0),
        }
        for journey in Journey.objects.all()
    ]


def step_summary(step: Step) -> str:
    """A short English description of a step, for lists (the page translates the parts)."""
    p = step.params
    if step.type == "wait":
        if "window" in p:
            return f"until {p['window']['start']}-{p['window']['end']} local time"
        if "until" in p:
            offset = int(p.get("offset_days") or 0)
            return f"until {p['until']} {offset:+d} days at {p.get('at', '09:00')}"
        parts = [f"{p[k]} {k}" for k in ("days", "hours", "minutes") if k in p]
        return " ".join(parts)
    if step.type == "email":
        return str(p["template"])
    if step.type == "tag":
        return " ".join(
            [f"+{t}" for t in p.get("add", [])] + [f"-{t}" for t in p.get("remove", [])]
        )
    if step.type == "field":
        return f"{p['field']} = {p['value']}"
    if step.type == "points":
        return f"{int(p['points']):+d}"
    if step.type == "notify":
        return f"{p.get('channel', 'app')}: {', '.join(p.get('to', ['role:admin']))}"
    if step.type == "goal":
        return str(p["event"])
    if step.type == "split":
        return str(p.get("mode", "random"))
    return ""


def journey_status(journey: Journey) -> dict[str, Any]:
    """``{"id", "name", "state", "entries": {state: n}, "steps": [...], "emails": {state: n},
    "emails_sent", "conversions", "revenue"}``."""
    plan = parse_definition(journey.definition)
    entries = journey.entries.all()
    states = dict(entries.values("state").annotate(n=Count("pk")).values_list("state", "n"))
    waiting = dict(
        entries.filter(state=EntryState.ACTIVE)
        .values("step")
        .annotate(n=Count("pk"))
        .values_list("step", "n")
    )
    runs = dict(
        StepRun.objects.filter(entry__journey=journey)
        .values("step")
        .annotate(n=Count("pk"))
        .values_list("step", "n")
    )
    campaigns = dict(
        JourneyEmail.objects.filter(journey=journey).values_list("step", "campaign_id")
    )
    sent_by_campaign: dict[int, int] = {}
    emails: dict[str, int] = {}
    for campaign_id, state, n in (
        Delivery.objects.filter(campaign_id__in=campaigns.values())
        .values("campaign_id", "state")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "state", "n")
    ):
        emails[state] = emails.get(state, 0) + n
        if state == DeliveryState.SENT:
            sent_by_campaign[campaign_id] = n
    orders = Event.objects.filter(
        type=EventType.ORDERED, campaign_id__in=list(campaigns.values())
    ).aggregate(n=Count("pk"), revenue=Sum("order__total"))
    steps = [
        {
            "id": step.id,
            "type": step.type,
            "depth": depth,
            "indent": min(depth, DEEPEST_INDENT),  # a CSS class: the CSP forbids inline styles
            "summary": step_summary(step),
            "waiting": waiting.get(step.id, 0),
            "done": runs.get(step.id, 0),
            "sent": sent_by_campaign.get(campaigns.get(step.id, 0), 0),
        }
        for depth, step in plan.walk()
    ]
    return {
        "id": journey.pk,
        "name": journey.name,
        "state": journey.state,
        "trigger": plan.trigger.type,
        "reentry": plan.reentry,
        "entries": {
            **{state: states.get(state, 0) for state in EntryState.values},
            "starting": waiting.get("start", 0),
            "total": sum(states.values()),
        },
        "steps": steps,
        "emails": emails,
        "emails_sent": emails.get(DeliveryState.SENT, 0),
        "conversions": orders["n"] or 0,
        "revenue": str(orders["revenue"] or Decimal("0")),
    }


def unread_notifications(user: User) -> list[StaffNotification]:
    return list(
        StaffNotification.objects.filter(user=user, channel="app", read_at__isnull=True)
        .select_related("journey")
        .order_by("-created_at")[:50]
    )
