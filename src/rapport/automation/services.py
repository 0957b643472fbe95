"""Journey writes: create (from JSON or a recipe), edit, switch on and off.

Saving checks the definition and everything it names (templates, segments, fields) and keeps
one automation campaign per email step (``campaigns.automation``). Switching on fixes those
campaigns' template versions and starts the trigger's scans from that moment: a journey never
reaches back to what happened before it was on, except where its trigger says it does
(inactivity takes everyone inactive already, a date or holiday fires on its day).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.automation.definition import Plan, assign_ids, parse_definition
from rapport.automation.models import (
    Journey,
    JourneyEmail,
    JourneyState,
    StaffNotification,
)
from rapport.automation.recipes import RECIPES, recipe_definition
from rapport.automation.steps import cleaned_field
from rapport.campaigns.automation import (
    change_template,
    create_automation_campaign,
    switch_off,
    switch_on,
)
from rapport.campaigns.models import Campaign
from rapport.content.models import Workspace
from rapport.content.services import get_template_for
from rapport.crm.models import Event
from rapport.errors import Conflict, InvalidInput, NotFound, RapportError
from rapport.lookup import by_id_or_name
from rapport.segments.services import get_segment_for


def get_journey_for(user: User | None, ref: int | str) -> Journey:
    if user is not None:
        require(user, Perm.VIEW_CONTACTS)
    return by_id_or_name(Journey.objects.all(), ref, "journey")


def _check_references(plan: Plan) -> None:
    """Everything the definition names exists: an error names the step and the problem.

    A missing segment or template is told here, in the person's language, with the same
    English as ``rapport.lookup``; other apps' errors (a field's value) pass through."""
    refs = [plan.trigger.audience] if plan.trigger.audience is not None else []
    if plan.trigger.type in ("segment_entered", "segment_left"):
        refs.append(plan.trigger.params["segment"])
    for ref in refs:
        try:
            get_segment_for(None, ref)
        except NotFound:
            missing = gettext("There is no segment %(ref)s.") % {"ref": repr(ref)}
            raise InvalidInput(f"trigger.segment: {missing}", field="trigger.segment") from None
    for _, step in plan.walk():
        try:
            if step.type == "email":
                _check_template(step.params["template"])
            elif step.type == "field":
                cleaned_field(str(step.params["field"]), step.params["value"])
        except RapportError as error:
            where = {"id": step.id, "type": step.type, "error": error.message}
            raise InvalidInput(
                gettext("step %(id)s (%(type)s): %(error)s") % where, field=step.id
            ) from None


def _check_template(ref: int | str) -> None:
    try:
        template = get_template_for(None, ref)
    except NotFound:
        raise NotFound(gettext("There is no template %(ref)s.") % {"ref": repr(ref)}) from None
    if template.current is None:
        message = gettext("The template %(name)s has no saved version yet.")
        raise NotFound(message % {"name": repr(template.name)})


def _checked(definition: Any) -> tuple[dict[str, Any], Plan]:
    data = assign_ids(copy.deepcopy(definition))
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ("name", "description")}
    plan = parse_definition(data)
    _check_references(plan)
    return data, plan


def _sync_emails(journey: Journey, plan: Plan, acting_user: User | None) -> list[int]:
    """One automation campaign per email step; returns the plan's campaign ids. Campaigns of
    removed steps stay (with their history) but get nothing new."""
    existing = {e.step: e for e in JourneyEmail.objects.filter(journey=journey)}
    campaign_ids = []
    for _, step in plan.walk():
        if step.type != "email":
            continue
        template = step.params["template"]
        link = existing.get(step.id)
        if link is None:
            name = f"{journey.name} · {step.id}"
            if Campaign.objects.filter(name=name).exists():
                name = f"{name} ({journey.pk})"
            campaign = create_automation_campaign(
                name=name, template=template, acting_user=acting_user
            )
            link = JourneyEmail.objects.create(journey=journey, step=step.id, campaign=campaign)
        else:
            change_template(link.campaign_id, template)
        campaign_ids.append(link.campaign_id)
    return campaign_ids


@transaction.atomic
def save_journey(
    definition: Any,
    *,
    name: str = "",
    description: str = "",
    recipe: str = "",
    journey_id: int | None = None,
    acting_user: User | None,
    now: dt.datetime | None = None,
) -> Journey:
    """Create a journey (or replace the definition of ``journey_id``), checked whole."""
    if acting_user is not None:
        require(acting_user, Perm.MANAGE_JOURNEYS)
    if isinstance(definition, dict):
        name = name or str(definition.get("name") or "")
        description = description or str(definition.get("description") or "")
    name = name.strip()
    if not name:
        raise InvalidInput(gettext("A journey needs a name."), field="name")
    if len(name) > 150:
        raise InvalidInput(gettext("A journey's name is at most 150 characters."), field="name")
    data, plan = _checked(definition)
    clash = Journey.objects.filter(name=name)
    if journey_id is not None:
        clash = clash.exclude(pk=journey_id)
    if clash.exists():
        raise Conflict(
            gettext("There is already a journey called %(name)s.") % {"name": repr(name)}
        )
    if journey_id is None:
        journey = Journey.objects.create(
            name=name, description=description, recipe=recipe, definition=data,
            reentry=plan.reentry, created_by=acting_user,
        )  # fmt: skip
        action = "journey.create"
    else:
        journey = by_id_or_name(Journey.objects.select_for_update(), journey_id, "journey")
        if journey.definition.get("trigger") != data.get("trigger"):
            journey.scan = {}  # a new trigger starts its scans afresh
        journey.name, journey.description = name, description
        journey.definition, journey.reentry = data, plan.reentry
        journey.save()
        action = "journey.update"
    campaigns = _sync_emails(journey, plan, acting_user)
    if journey.state == JourneyState.ENABLED:
        switch_on(campaigns, now=now or timezone.now(), acting_user=acting_user)
    record_audit(acting_user, action, target_type="journey", target_id=journey.pk)
    return journey


def create_from_recipe(key: str, *, name: str = "", acting_user: User | None) -> Journey:
    if key not in RECIPES:
        raise InvalidInput(
            gettext("%(key)s is not a recipe; there are: %(recipes)s.")
            % {"key": repr(key), "recipes": ", ".join(RECIPES)},
            field="recipe",
        )
    definition = recipe_definition(key, acting_user=acting_user)
    return save_journey(
        definition,
        name=name or str(RECIPES[key].name),
        description=str(RECIPES[key].description),
        recipe=key,
        acting_user=acting_user,
    )


@transaction.atomic
def enable_journey(
    ref: int | str, *, acting_user: User | None, now: dt.datetime | None = None
) -> Journey:
    if acting_user is not None:
        require(acting_user, Perm.MANAGE_JOURNEYS)
    now = now or timezone.now()
    journey = get_journey_for(None, ref)
    if journey.state == JourneyState.ENABLED:
        return journey
    plan = parse_definition(journey.definition)
    has_email = any(step.type == "email" for _, step in plan.walk())
    if has_email and not Workspace.current().postal_address.strip():
        raise InvalidInput(
            gettext(
                "Set the organisation's postal address first (Settings): the law in most "
                "countries requires it in every marketing email."
            ),
            field="postal_address",
        )
    _check_references(plan)
    campaigns = _sync_emails(journey, plan, acting_user)
    switch_on(campaigns, now=now, acting_user=acting_user)
    journey.state = JourneyState.ENABLED
    journey.enabled_at = now
    # Scans start now; posted events from before are not this journey's.
    newest_event = Event.objects.aggregate(newest=Max("pk"))["newest"] or 0
    journey.scan = {k: v for k, v in journey.scan.items() if k in ("baseline", "zones")}
    journey.scan.update(floor_id=newest_event, high_id=newest_event)
    journey.save(update_fields=["state", "enabled_at", "scan", "updated_at"])
    record_audit(acting_user, "journey.enable", target_type="journey", target_id=journey.pk)
    return journey


@transaction.atomic
def disable_journey(ref: int | str, *, acting_user: User | None) -> Journey:
    """Stop entering and moving contacts; their places are kept for when it is on again, and
    its emails already queued wait (their campaigns are paused)."""
    if acting_user is not None:
        require(acting_user, Perm.MANAGE_JOURNEYS)
    journey = get_journey_for(None, ref)
    if journey.state != JourneyState.ENABLED:
        return journey
    journey.state = JourneyState.DISABLED
    journey.save(update_fields=["state", "updated_at"])
    switch_off(
        list(JourneyEmail.objects.filter(journey=journey).values_list("campaign_id", flat=True)),
        acting_user=acting_user,
    )
    record_audit(acting_user, "journey.disable", target_type="journey", target_id=journey.pk)
    return journey


def mark_notifications_read(user: User, *, now: dt.datetime | None = None) -> int:
    return StaffNotification.objects.filter(user=user, channel="app", read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
