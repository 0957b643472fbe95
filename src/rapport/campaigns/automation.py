"""Automation campaigns: one per email step of a journey (``Campaign.kind = "automation"``).

They have no audience: the journey engine queues each contact's ``Delivery`` (with the entry as
its occurrence), and the send pipeline, tracking, bounces, caps and reports treat them as any
campaign. One stays ``sending`` while its journey is on, and is paused while it is off, so
messages already queued wait instead of going out.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from rapport.accounts.models import User
from rapport.campaigns.models import Campaign, CampaignKind, CampaignState
from rapport.campaigns.services import _move
from rapport.content.services import current_version, get_template_for


def create_automation_campaign(
    *, name: str, template: int | str, acting_user: User | None
) -> Campaign:
    """A draft automation campaign for a journey's email step; the caller checks permissions."""
    found = get_template_for(None, template)
    current_version(found)  # a template with nothing saved cannot be sent
    return Campaign.objects.create(
        name=name[:200], template=found, kind=CampaignKind.AUTOMATION, created_by=acting_user
    )


def change_template(campaign_id: int, template: int | str) -> None:
    """Point the step at another template; its version is fixed again when switched on."""
    found = get_template_for(None, template)
    current_version(found)
    Campaign.objects.filter(pk=campaign_id, kind=CampaignKind.AUTOMATION).update(template=found)


@transaction.atomic
def switch_on(campaign_ids: list[int], *, now: dt.datetime, acting_user: User | None) -> None:
    """Fix each campaign's template version (the current one) and let it send."""
    for campaign in (
        Campaign.objects.select_for_update()
        .filter(pk__in=campaign_ids, kind=CampaignKind.AUTOMATION)
        .select_related("template")
    ):
        campaign.version = current_version(campaign.template)
        if campaign.state != CampaignState.SENDING:
            _move(campaign.pk, CampaignState.SENDING, acting_user=acting_user, reason="journey on")
            campaign.state = CampaignState.SENDING
        campaign.started_at = campaign.started_at or now
        campaign.save(update_fields=["version", "state", "started_at"])


@transaction.atomic
def switch_off(campaign_ids: list[int], *, acting_user: User | None) -> None:
    for campaign_id in Campaign.objects.filter(
        pk__in=campaign_ids, kind=CampaignKind.AUTOMATION, state=CampaignState.SENDING
    ).values_list("pk", flat=True):
        _move(campaign_id, CampaignState.PAUSED, acting_user=acting_user, reason="journey off")
        Campaign.objects.filter(pk=campaign_id).update(state=CampaignState.PAUSED)
