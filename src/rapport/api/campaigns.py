"""/api/v1/campaigns: create, start, pause, resume and cancel campaigns, and read their
progress, with the same rules as the UI and ``rapport campaign``."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.api.common import ERRORS, acting_user
from rapport.campaigns import services
from rapport.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    CapAction,
    ScheduleMode,
)
from rapport.delivery.bouncing import bounce_counts

router = Router(tags=["campaigns"])


class CampaignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    template: int | str = Field(description="template id or name")
    audience: list[int | str] = Field(min_length=1, description="segment or list ids or names")
    exclude: list[int | str] = Field(default_factory=list)
    schedule_mode: ScheduleMode = ScheduleMode.NOW
    send_at: dt.datetime | None = None
    local_time: dt.time | None = None
    cap_action: CapAction = CapAction.DEFER
    transactional: bool = False
    avoid_quiet_hours: bool = True
    avoid_holidays: bool = True


class StatusOut(Schema):
    state: str
    audience: int
    sent: int
    failed: int
    deferred: int
    unknown: int
    skipped: int
    capped: int
    bounced: int = Field(description="hard and soft bounces reported back")
    complained: int


class CampaignOut(Schema):
    id: int
    name: str
    kind: str = Field(description="broadcast, or automation (a journey's email step)")
    state: str
    template_id: int
    schedule_mode: str
    send_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class CampaignDetailOut(CampaignOut):
    status: StatusOut


def _detail(campaign: Campaign) -> dict[str, object]:
    status = {**services.campaign_status(campaign), **bounce_counts(campaign.pk)}
    return {**CampaignOut.from_orm(campaign).model_dump(), "status": status}


@router.get("", response={200: list[CampaignOut], **ERRORS})
def list_campaigns(
    request: HttpRequest,
    state: CampaignState | None = None,
    kind: CampaignKind = CampaignKind.BROADCAST,
) -> list[Campaign]:
    """Broadcasts by default; ``kind=automation`` lists the journeys' email steps."""
    require(acting_user(request), Perm.VIEW_CONTACTS)
    found = Campaign.objects.filter(kind=kind)  # newest first
    return list((found.filter(state=state) if state else found)[:500])


@router.post("", response={201: CampaignDetailOut, **ERRORS})
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[dict[str, object]]:
    campaign = services.create_campaign(**payload.model_dump(), acting_user=acting_user(request))
    return Status(201, _detail(campaign))


@router.get("/{campaign_id}", response={200: CampaignDetailOut, **ERRORS})
def get_campaign(request: HttpRequest, campaign_id: int) -> dict[str, object]:
    return _detail(services.get_campaign_for(acting_user(request), campaign_id))


@router.post("/{campaign_id}/send", response={200: CampaignDetailOut, **ERRORS})
def send_campaign(request: HttpRequest, campaign_id: int) -> dict[str, object]:
    """Start sending now, or at the campaign's time; the workers do the sending."""
    from rapport.delivery.tasks import send_campaign as send_task  # noqa: PLC0415

    campaign = services.start_campaign(campaign_id, acting_user=acting_user(request))
    if campaign.state == CampaignState.SENDING:
        send_task.enqueue(campaign.pk)
    return _detail(campaign)


@router.post("/{campaign_id}/pause", response={200: CampaignDetailOut, **ERRORS})
def pause_campaign(request: HttpRequest, campaign_id: int) -> dict[str, object]:
    return _detail(services.pause_campaign(campaign_id, acting_user=acting_user(request)))


@router.post("/{campaign_id}/resume", response={200: CampaignDetailOut, **ERRORS})
def resume_campaign(request: HttpRequest, campaign_id: int) -> dict[str, object]:
    from rapport.delivery.tasks import send_campaign as send_task  # noqa: PLC0415

    campaign = services.resume_campaign(campaign_id, acting_user=acting_user(request))
    send_task.enqueue(campaign.pk)
    return _detail(campaign)


@router.post("/{campaign_id}/cancel", response={200: CampaignDetailOut, **ERRORS})
def cancel_campaign(request: HttpRequest, campaign_id: int) -> dict[str, object]:
    return _detail(services.cancel_campaign(campaign_id, acting_user=acting_user(request)))
