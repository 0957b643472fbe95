"""Campaign pages: the list, a form to create one, and its live progress with the actions that
move it (start, pause, resume, cancel); the A/B test panel is ``experiments``'."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.campaigns import services
from rapport.campaigns.models import Campaign, CampaignKind, CampaignState
from rapport.delivery.bouncing import bounce_counts
from rapport.delivery.tasks import send_campaign
from rapport.errors import Conflict, InvalidInput
from rapport.web.decorators import acting_user, page
from rapport.web.forms import CampaignForm
from rapport.web.views.experiments import ab_panel


@page
def campaign_index(request: HttpRequest) -> HttpResponse:
    require(acting_user(request), Perm.VIEW_CONTACTS)
    # Journeys' email steps are shown on their journey's page, not among broadcasts.
    campaigns = Campaign.objects.filter(kind=CampaignKind.BROADCAST).select_related("template")[
        :200
    ]
    return render(request, "web/campaigns/list.html", {"campaigns": campaigns})


@page
def campaign_new(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.EDIT_CONTENT)
    form = CampaignForm(request.POST or None, initial={"schedule_mode": "window"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.create_campaign(
                name=data["name"],
                template=data["template"].pk,
                audience=[segment.pk for segment in data["audience"]],
                exclude=[segment.pk for segment in data["exclude"]],
                schedule_mode=data["schedule_mode"],
                send_at=data["send_at"],
                local_time=data["local_time"],
                cap_action=data["cap_action"],
                transactional=data["transactional"],
                avoid_quiet_hours=data["avoid_quiet_hours"],
                avoid_holidays=data["avoid_holidays"],
                acting_user=user,
            )
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            return redirect("campaign", campaign.pk)
    return render(request, "web/campaigns/new.html", {"form": form})


@page
def campaign_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = acting_user(request)
    campaign = services.get_campaign_for(user, campaign_id)
    return render(request, "web/campaigns/detail.html", detail_context(campaign, user))


def detail_context(campaign: Campaign, user: User) -> dict[str, object]:
    """The whole page: progress, and the A/B test panel."""
    return {**_detail(campaign), "ab": ab_panel(campaign, user)}


@page
def campaign_progress(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The counts alone, polled by the page while the campaign sends."""
    campaign = services.get_campaign_for(acting_user(request), campaign_id)
    return render(request, "web/campaigns/progress.html", _detail(campaign))


def _detail(campaign: Campaign) -> dict[str, object]:
    status = {**services.campaign_status(campaign), **bounce_counts(campaign.pk)}
    audience = status["audience"] or 0
    done = sum(status[key] for key in ("sent", "failed", "unknown", "skipped"))
    return {
        "campaign": campaign,
        "status": status,
        "percent": round(100 * done / audience) if audience else 0,
        "live": campaign.state in (CampaignState.SENDING, CampaignState.SCHEDULED),
        "audience": campaign.audience.select_related("segment"),
    }


@page
@require_POST
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    user = acting_user(request)
    campaign = services.get_campaign_for(user, campaign_id)
    try:
        if action == "start":
            campaign = services.start_campaign(campaign.pk, acting_user=user)
        elif action == "pause":
            services.pause_campaign(campaign.pk, acting_user=user, reason="paused in the UI")
        elif action == "resume":
            campaign = services.resume_campaign(campaign.pk, acting_user=user)
        elif action == "cancel":
            services.cancel_campaign(campaign.pk, acting_user=user)
        elif action == "resend_unknown":
            resent = services.resend_unknown(campaign.pk, acting_user=user)
            campaign = services.get_campaign_for(user, campaign.pk)
        else:
            raise InvalidInput(f"{action!r} is not something a campaign can do.")
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    else:
        if campaign.state == CampaignState.SENDING and action in (
            "start",
            "resume",
            "resend_unknown",
        ):
            send_campaign.enqueue(campaign.pk)
        done = {
            "start": _("Campaign %(name)s started."),
            "pause": _("Campaign %(name)s paused."),
            "resume": _("Campaign %(name)s resumed."),
            "cancel": _("Campaign %(name)s cancelled."),
            "resend_unknown": _("%(count)s unknown recipients of %(name)s queued again."),
        }
        count = resent if action == "resend_unknown" else 0
        messages.success(request, done[action] % {"name": campaign.name, "count": count})
    return redirect("campaign", campaign.pk)
