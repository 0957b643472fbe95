"""What a bounce or complaint changes, whichever way it arrived: suppression, the contact's
status and timeline, soft bounces counted over a period, a campaign paused when its rates
pass the policy, and the same report read twice counting once."""

from __future__ import annotations

import pytest

from rapport.campaigns.models import Campaign, CampaignState
from rapport.crm.models import Contact, ContactStatus, Event, EventType
from rapport.delivery.bounces import Finding, Kind
from rapport.delivery.bouncing import delivery_for, handle
from rapport.delivery.models import (
    Bounce,
    BouncePolicy,
    Delivery,
    DeliveryState,
    Suppression,
    SuppressionReason,
)
from tests.factories import started_campaign

pytestmark = pytest.mark.django_db


def _sent_campaign(count: int) -> list[Delivery]:
    campaign_id = started_campaign([f"r{n}@example.com" for n in range(count)])
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    for row in rows:
        row.message_id = f"<{row.pk}.abcdef012345@shop.example.com>"
        row.state = DeliveryState.SENT
        row.save()
    return list(rows.order_by("pk").select_related("contact"))


def test_a_hard_bounce_suppresses_the_address_and_marks_the_contact() -> None:
    row = _sent_campaign(1)[0]

    outcome = handle(
        Finding(Kind.HARD, row.pk, status="5.1.1", diagnostic="550 5.1.1 no such user"),
        source="imap",
        key="<report-1@mx.example.net>",
    )

    assert outcome.recorded and outcome.suppressed
    suppression = Suppression.objects.get(email=row.contact.email)
    assert suppression.reason == SuppressionReason.HARD_BOUNCE
    assert "no such user" in suppression.source
    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.BOUNCED
    event = Event.objects.get(contact_id=row.contact_id, type=EventType.BOUNCED)
    assert event.campaign_id == row.campaign_id and event.data["status"] == "5.1.1"
    bounce = Bounce.objects.get()
    assert (bounce.delivery_id, bounce.campaign_id, bounce.kind) == (
        row.pk,
        row.campaign_id,
        "hard",
    )


def test_the_same_report_read_twice_counts_once() -> None:
    row = _sent_campaign(1)[0]
    finding = Finding(Kind.SOFT, row.pk, status="4.2.2")

    first = handle(finding, source="imap", key="<same@mx>")
    second = handle(finding, source="imap", key="<same@mx>")

    assert first.recorded and not second.recorded
    assert Bounce.objects.count() == 1


def test_soft_bounces_suppress_only_when_the_policy_count_is_reached() -> None:
    row = _sent_campaign(1)[0]
    BouncePolicy.objects.create(soft_bounces_to_suppress=3, soft_bounce_days=30)

    outcomes = [
        handle(Finding(Kind.SOFT, row.pk, status="4.2.2"), source="imap", key=f"<soft-{n}@mx>")
        for n in range(3)
    ]

    assert [o.suppressed for o in outcomes] == [False, False, True]
    assert Suppression.objects.get(email=row.contact.email).source.endswith(
        "3 soft bounces in 30 days"
    )
    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.BOUNCED


def test_a_complaint_unsubscribes_and_suppresses() -> None:
    row = _sent_campaign(1)[0]

    handle(
        Finding(Kind.COMPLAINT, original_message_id=row.message_id),
        source="imap",
        key="<arf@fbl.example.net>",
    )

    assert Suppression.objects.get(email=row.contact.email).reason == SuppressionReason.COMPLAINED
    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.COMPLAINED
    assert Event.objects.filter(contact_id=row.contact_id, type=EventType.COMPLAINED).exists()


def test_a_quoted_message_id_finds_its_delivery_only_when_its_random_part_matches() -> None:
    row = _sent_campaign(1)[0]

    assert delivery_for(Finding(Kind.HARD, original_message_id=row.message_id)) == row
    forged = f"<{row.pk}.000000000000@shop.example.com>"
    assert delivery_for(Finding(Kind.HARD, original_message_id=forged)) is None


def test_delay_warnings_and_unreadable_reports_are_kept_but_change_nothing() -> None:
    row = _sent_campaign(1)[0]

    handle(Finding(Kind.DELAYED, row.pk), source="imap", key="<delay@mx>")
    handle(Finding(Kind.UNRECOGNISED, row.pk), source="imap", key="<what@mx>")
    handle(Finding(Kind.AUTO_REPLY, row.pk), source="imap", key="<ooo@mx>")
    handle(Finding(Kind.HUMAN, row.pk), source="imap", key="<hi@mx>")

    assert sorted(Bounce.objects.values_list("kind", flat=True)) == ["delayed", "unrecognised"]
    assert not Suppression.objects.exists()
    assert Contact.objects.get(pk=row.contact_id).status == ContactStatus.SUBSCRIBED


def test_a_campaign_is_paused_when_its_bounce_rate_passes_the_policy() -> None:
    rows = _sent_campaign(20)
    BouncePolicy.objects.create(minimum_sent=10, pause_bounce_rate=0.10)
    campaign_id = rows[0].campaign_id
    Campaign.objects.filter(pk=campaign_id).update(state=CampaignState.SENDING)

    paused = [
        handle(Finding(Kind.HARD, row.pk), source="imap", key=f"<b{n}@mx>").paused_campaign
        for n, row in enumerate(rows[:3])
    ]

    # 2 of 20 is 10 %: not above; the third makes 15 %.
    assert paused == [None, None, campaign_id]
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.state == CampaignState.PAUSED
    assert "bounce rate 15.0% passed 10.0%" in campaign.transitions.last().reason


def test_no_pause_before_enough_was_sent_to_judge() -> None:
    rows = _sent_campaign(5)
    BouncePolicy.objects.create(minimum_sent=100)
    Campaign.objects.filter(pk=rows[0].campaign_id).update(state=CampaignState.SENDING)

    for n, row in enumerate(rows):
        handle(Finding(Kind.HARD, row.pk), source="imap", key=f"<b{n}@mx>")

    assert Campaign.objects.get(pk=rows[0].campaign_id).state == CampaignState.SENDING
