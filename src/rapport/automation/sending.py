"""Sending the journeys' due emails in this process, with an injected clock: what
``rapport tick --wait`` does to catch up, and what tests use (a worker does it otherwise)."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext

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
    with nullcontext(pool) if pool is not None else default_pool() as sender:
        return sum(CampaignSender(c, sender, clock=lambda: now).run().sent for c in campaigns)
