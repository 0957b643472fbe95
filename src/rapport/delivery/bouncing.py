"""What a bounce or complaint changes: the evidence row, the suppression list, the contact's
status and timeline, and a campaign that bounces too much is paused.

Both the IMAP reader and the providers' webhooks end here, so the rules are the same whichever
way a report arrives. Everything one report changes is one transaction, and the report's key
is unique: reading it twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.campaigns.models import Campaign, CampaignState
from rapport.crm.models import SUPPRESSED_STATUSES, Contact, ContactStatus, Event, EventType
from rapport.delivery.bounces import Finding, Kind
from rapport.delivery.models import (
    Bounce,
    BounceKind,
    BouncePolicy,
    Delivery,
    DeliveryState,
    Suppression,
    SuppressionReason,
)
from rapport.errors import InvalidInput
from rapport.tracking.services import unsubscribe

log = logging.getLogger(__name__)

_OUR_MESSAGE_ID = re.compile(r"<(\d+)\.[0-9a-f]+@[^>]+>")
RECORDED = frozenset({Kind.HARD, Kind.SOFT, Kind.COMPLAINT, Kind.DELAYED, Kind.UNRECOGNISED})


@dataclass(frozen=True, slots=True)
class Outcome:
    recorded: bool  # False: seen before, or not a report at all
    suppressed: bool = False
    paused_campaign: int | None = None


def delivery_for(finding: Finding) -> Delivery | None:
    """The delivery a report is about: the signed VERP address, else our Message-ID quoted in
    the report (its random part must match the stored one, so it cannot be made up)."""
    if finding.delivery_id is not None:
        return Delivery.objects.select_related("contact").filter(pk=finding.delivery_id).first()
    match = _OUR_MESSAGE_ID.fullmatch(finding.original_message_id.strip())
    if match is None:
        return None
    return (
        Delivery.objects.select_related("contact")
        .filter(pk=int(match.group(1)), message_id=finding.original_message_id.strip())
        .first()
    )


def handle(finding: Finding, *, source: str, key: str) -> Outcome:
    """Record one report and apply it. ``key`` identifies the report (its Message-ID, or the
    provider's event id) so that a second reading is a no-op."""
    if finding.kind is Kind.UNSUBSCRIBE:
        return _unsubscribe(finding)
    if finding.kind not in RECORDED:
        return Outcome(recorded=False)
    try:
        with transaction.atomic():
            return _apply(finding, source=source, key=key)
    except IntegrityError:  # the same report, read before
        return Outcome(recorded=False)


def _unsubscribe(finding: Finding) -> Outcome:
    """Mail to the List-Unsubscribe mailto address: the same as the one-click POST."""
    delivery = delivery_for(finding)
    if delivery is None:
        return Outcome(recorded=False)
    done = unsubscribe(delivery.contact_id, source=f"campaign:{delivery.campaign_id}", how="mailto")
    return Outcome(recorded=done, suppressed=done)


def _apply(finding: Finding, *, source: str, key: str) -> Outcome:
    delivery = delivery_for(finding)
    email = (delivery.contact.email if delivery else finding.recipient).lower()
    bounce = Bounce.objects.create(
        key=key[:300],
        kind=BounceKind(finding.kind.value),
        delivery=delivery,
        campaign_id=delivery.campaign_id if delivery else None,
        email=email[:254],
        status=finding.status[:16],
        diagnostic=finding.diagnostic[:500],
        source=source[:40],
    )
    if finding.kind in (Kind.DELAYED, Kind.UNRECOGNISED) or not email:
        return Outcome(recorded=True)
    contact = delivery.contact if delivery else Contact.objects.filter(email=email).first()
    suppressed = _suppress_if_due(finding, email, contact, bounce)
    paused = _pause_if_too_many(bounce.campaign_id) if bounce.campaign_id else None
    return Outcome(recorded=True, suppressed=suppressed, paused_campaign=paused)


def _suppress_if_due(finding: Finding, email: str, contact: Contact | None, bounce: Bounce) -> bool:
    if contact is not None:
        Event.objects.create(
            contact=contact,
            type=EventType.COMPLAINED if finding.kind is Kind.COMPLAINT else EventType.BOUNCED,
            occurred_at=timezone.now(),
            campaign_id=bounce.campaign_id,
            data={"kind": finding.kind.value, "status": finding.status, "via": bounce.source},
        )
    if finding.kind is Kind.SOFT:
        policy = BouncePolicy.current()
        since = timezone.now() - dt.timedelta(days=policy.soft_bounce_days)
        recent = Bounce.objects.filter(email=email, kind=BounceKind.SOFT, received_at__gte=since)
        if recent.count() < policy.soft_bounces_to_suppress:
            return False
        why = f"{policy.soft_bounces_to_suppress} soft bounces in {policy.soft_bounce_days} days"
    else:
        why = finding.diagnostic or finding.status or finding.kind.value
    complaint = finding.kind is Kind.COMPLAINT
    reason = SuppressionReason.COMPLAINED if complaint else SuppressionReason.HARD_BOUNCE
    _, created = Suppression.objects.get_or_create(
        email=email, defaults={"reason": reason, "source": f"{bounce.source}: {why}"[:200]}
    )
    if contact is not None and contact.status not in SUPPRESSED_STATUSES:
        contact.status = ContactStatus.COMPLAINED if complaint else ContactStatus.BOUNCED
        contact.save(update_fields=["status", "updated_at"])
    return created


def bounce_counts(campaign_id: int) -> dict[str, int]:
    """``{"bounced", "complained"}`` reported back for a campaign (bounces hard and soft)."""
    counts: dict[str, int] = Bounce.objects.filter(campaign_id=campaign_id).aggregate(
        bounced=Count("pk", filter=Q(kind__in=[BounceKind.HARD, BounceKind.SOFT])),
        complained=Count("pk", filter=Q(kind=BounceKind.COMPLAINT)),
    )
    return counts


def _pause_if_too_many(campaign_id: int) -> int | None:
    """Pause a sending campaign whose bounce or complaint rate passed the policy's limit, once
    it has sent enough for a rate to mean something. Returns the campaign paused."""
    from rapport.campaigns.services import pause_campaign  # noqa: PLC0415 - services import us

    campaign = Campaign.objects.filter(pk=campaign_id).only("state").first()
    if campaign is None or campaign.state != CampaignState.SENDING:
        return None
    policy = BouncePolicy.current()
    counts = bounce_counts(campaign_id)
    # A rate passes its limit only while sent < reports / limit: counting that many handed-over
    # rows at most keeps this cheap on a campaign of a million, however often it is asked.
    enough = max(
        policy.minimum_sent,
        math.floor(counts["bounced"] / policy.pause_bounce_rate) + 1,
        math.floor(counts["complained"] / policy.pause_complaint_rate) + 1,
    )
    handed_over = Delivery.objects.filter(
        campaign_id=campaign_id, state__in=[DeliveryState.SENT, DeliveryState.FAILED]
    )
    sent = handed_over[:enough].count()
    if sent < policy.minimum_sent:
        return None
    bounce_rate, complaint_rate = counts["bounced"] / sent, counts["complained"] / sent
    if bounce_rate > policy.pause_bounce_rate:
        why = f"bounce rate {bounce_rate:.1%} passed {policy.pause_bounce_rate:.1%}"
    elif complaint_rate > policy.pause_complaint_rate:
        why = f"complaint rate {complaint_rate:.2%} passed {policy.pause_complaint_rate:.2%}"
    else:
        return None
    log.warning("pausing campaign %s: %s", campaign_id, why)
    pause_campaign(campaign_id, acting_user=None, reason=f"paused automatically: {why}")
    return campaign_id


def save_bounce_policy(
    *,
    soft_bounces_to_suppress: int,
    soft_bounce_days: int,
    pause_bounce_rate: float,
    pause_complaint_rate: float,
    minimum_sent: int,
    acting_user: User,
) -> BouncePolicy:
    """Rates are fractions (0.05 is 5 %)."""
    require(acting_user, Perm.MANAGE_SENDING)
    if not (0 < pause_bounce_rate <= 1 and 0 < pause_complaint_rate <= 1):
        raise InvalidInput("Rates are between 0 and 100 %.", field="pause_bounce_rate")
    if soft_bounces_to_suppress < 1 or soft_bounce_days < 1 or minimum_sent < 1:
        raise InvalidInput("Counts and days are at least 1.", field="soft_bounces_to_suppress")
    policy = BouncePolicy.current()
    policy.soft_bounces_to_suppress, policy.soft_bounce_days = (
        soft_bounces_to_suppress, soft_bounce_days,
    )  # fmt: skip
    policy.pause_bounce_rate, policy.pause_complaint_rate = (
        pause_bounce_rate, pause_complaint_rate,
    )  # fmt: skip
    policy.minimum_sent = minimum_sent
    policy.save()
    record_audit(acting_user, "bounce_policy.update", target_type="bounce_policy", target_id=1)
    return policy
