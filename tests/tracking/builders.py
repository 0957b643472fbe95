"""Campaigns, deliveries and tokens for tracking tests."""

from __future__ import annotations

import itertools
import time
from typing import Any

from django.utils import timezone

from rapport.campaigns.models import Campaign
from rapport.content.services import TemplateContent, create_template
from rapport.crm.models import Contact
from rapport.delivery.models import Delivery
from rapport.tracking.models import Link
from rapport.tracking.tokens import CLICK, OPEN, HitToken, make_token

_numbers = itertools.count(1)
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
AN_HOUR_AGO = 3600


def make_campaign(**overrides: Any) -> Campaign:
    n = next(_numbers)
    template = create_template(
        name=f"Tracking template {n}",
        content=TemplateContent(subject="Hi", html="<p>Hi</p>"),
        acting_user=None,
    )
    return Campaign.objects.create(name=f"Campaign {n}", template=template, **overrides)


def make_delivery(campaign: Campaign, contact: Contact) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(
        campaign=campaign, contact=contact, state="sent", due_at=now, sent_at=now
    )


def make_link(campaign: Campaign, url: str) -> Link:
    return Link.objects.create(campaign=campaign, url=url, digest=f"{next(_numbers):064d}")


def open_path(delivery: Delivery, *, sent_ago: float = AN_HOUR_AGO) -> str:
    token = HitToken(
        delivery.pk, delivery.contact_id, delivery.campaign_id, 0, int(time.time() - sent_ago)
    )
    return f"/t/{OPEN}/{make_token(OPEN, token)}"


def click_path(delivery: Delivery, link: Link, *, sent_ago: float = AN_HOUR_AGO) -> str:
    token = HitToken(
        delivery.pk, delivery.contact_id, delivery.campaign_id, link.pk, int(time.time() - sent_ago)
    )
    return f"/t/{CLICK}/{make_token(CLICK, token)}"
