"""Journey pages: the list (with the recipes and staff notifications), a journey's step tree
with its live counts, its definition to edit, and switching it on and off."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.automation import queries, services
from rapport.automation.definition import TRIGGERS
from rapport.automation.models import Journey
from rapport.automation.recipes import RECIPES
from rapport.errors import Conflict, InvalidInput
from rapport.web.decorators import acting_user, page

EXAMPLE = {
    "trigger": {"type": "contact_created"},
    "reentry": "once",
    "steps": [
        {"type": "email", "template": "Welcome (English)"},
        {"type": "wait", "days": 2},
        {"type": "goal", "event": "ordered"},
    ],
}


@page
def journey_index(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    context = {
        "journeys": queries.journey_list_for(user),
        "recipes": RECIPES,
        "notifications": queries.unread_notifications(user),
    }
    return render(request, "web/journeys/list.html", context)


@page
@require_POST
def journey_from_recipe(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    try:
        journey = services.create_from_recipe(
            request.POST.get("recipe", ""), name=request.POST.get("name", ""), acting_user=user
        )
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
        return redirect("journeys")
    messages.success(request, _("Journey %(name)s created; switch it on when ready.") % {
        "name": journey.name
    })  # fmt: skip
    return redirect("journey", journey.pk)


def _editor(request: HttpRequest, journey: Journey | None) -> tuple[str, Journey | str]:
    """The definition typed in the form, and the journey it saved, or the error saving gave."""
    text = request.POST.get("definition", "")
    try:
        definition = json.loads(text)
    except ValueError as error:
        return text, _("The definition is not valid JSON: %(error)s") % {"error": error}
    try:
        saved = services.save_journey(
            definition,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            journey_id=journey.pk if journey else None,
            acting_user=acting_user(request),
        )
    except (InvalidInput, Conflict) as error:
        return text, error.message
    return text, saved


@page
def journey_new(request: HttpRequest) -> HttpResponse:
    require(acting_user(request), Perm.MANAGE_JOURNEYS)
    text, error = json.dumps(EXAMPLE, indent=2, ensure_ascii=False), ""
    if request.method == "POST":
        text, outcome = _editor(request, None)
        if isinstance(outcome, Journey):
            return redirect("journey", outcome.pk)
        error = outcome
    context = {"definition": text, "error": error, "triggers": TRIGGERS, "form": request.POST}
    return render(request, "web/journeys/new.html", context)


@page
def journey_page(request: HttpRequest, journey_id: int) -> HttpResponse:
    journey = services.get_journey_for(acting_user(request), journey_id)
    text = json.dumps(journey.definition, indent=2, ensure_ascii=False)
    error = ""
    if request.method == "POST":
        require(acting_user(request), Perm.MANAGE_JOURNEYS)
        text, outcome = _editor(request, journey)
        if isinstance(outcome, Journey):
            messages.success(request, _("Journey saved."))
            return redirect("journey", journey.pk)
        error = outcome
    context = {
        "journey": journey,
        "status": queries.journey_status(journey),
        "definition": text,
        "error": error,
        "triggers": TRIGGERS,
    }
    return render(request, "web/journeys/detail.html", context)


@page
def journey_metrics(request: HttpRequest, journey_id: int) -> HttpResponse:
    """The counts alone, polled by the page."""
    journey = services.get_journey_for(acting_user(request), journey_id)
    context = {"journey": journey, "status": queries.journey_status(journey)}
    return render(request, "web/journeys/metrics.html", context)


@page
@require_POST
def journey_action(request: HttpRequest, journey_id: int, action: str) -> HttpResponse:
    user = acting_user(request)
    journey = services.get_journey_for(user, journey_id)
    try:
        if action == "enable":
            services.enable_journey(journey.pk, acting_user=user)
            messages.success(request, _("Journey %(name)s is on.") % {"name": journey.name})
        elif action == "disable":
            services.disable_journey(journey.pk, acting_user=user)
            messages.success(request, _("Journey %(name)s is off.") % {"name": journey.name})
        else:
            raise InvalidInput(
                _("%(action)r is not something a journey can do.") % {"action": action}
            )
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    return redirect("journey", journey.pk)


@page
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    services.mark_notifications_read(acting_user(request))
    return redirect("journeys")
