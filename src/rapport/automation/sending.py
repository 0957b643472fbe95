"""Sending the journeys' due emails in this process, with an injected clock: what
``rapport tick --wait`` does to catch up, and what tests use (a worker does it otherwise)."""

from __future__ import annotations

import datetime as dt

from rapport.campaigns.models import Campaign, CampaignKind, CampaignState
from rapport.delivery.models import Delivery, DeliveryState
from rapport.delivery.pipeline import CampaignSender, default_pool
from rapport.delivery.pool import SendPool


def send_journey_emails(now: dt.datetime, pool: SendPool | None = None) -> int:
    """Send every switched-on journey email's due messages as of ``now``; returns how many."""
    due = Delivery.objects.filter(
        state__in=[DeliveryState.QUEUED, DeliveryState.DEFERRED], due_at__lte=now
    ).values("campaign_id")
    campaigns = Campaign.objects.filter(
        kind=CampaignKind.AUTOMATION, state=CampaignState.SENDING, pk__in=due
    ).select_related("version")
    if pool is None:
        with default_pool() as own:
            return sum(CampaignSender(c, own, clock=lambda: now).run().sent for c in campaigns)
    return sum(CampaignSender(c, pool, clock=lambda: now).run().sent for c in campaigns)
