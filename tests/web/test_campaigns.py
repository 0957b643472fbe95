"""Campaign pages: create from the form, start, watch the counts, pause; who may do what."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from rapport.accounts.roles import Role
from rapport.campaigns.models import Campaign, CampaignState
from rapport.content.models import Template, Workspace
from rapport.delivery.bounces import Finding, Kind
from rapport.delivery.bouncing import handle
from rapport.delivery.models import Delivery, DeliveryState
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact

ClientFor = Callable[..., Client]


def _setup() -> tuple[int, int]:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name="Club", kind=SegmentKind.STATIC)
    for n in range(3):
        SegmentMember.objects.create(
            segment=listing, contact=make_contact(email=f"m{n}@example.com", status="subscribed")
        )
    return listing.pk, Template.objects.get(name="Newsletter (English)").pk


def test_a_marketer_creates_starts_watches_and_pauses_a_campaign(
    client_for: ClientFor, settings: object
) -> None:
    settings.SMTP_URL = "smtp://127.0.0.1:9"  # type: ignore[attr-defined] # nothing listens: rows defer
    listing, template = _setup()
    client = client_for(Role.MARKETER)
    response = client.post(
        "/campaigns/new",
        {
            "name": "March news", "template": template, "audience": [listing],
            "schedule_mode": "window", "cap_action": "defer",
        },
    )  # fmt: skip
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="March news")
    assert campaign.state == CampaignState.DRAFT

    assert client.post(f"/campaigns/{campaign.pk}/start").status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING
    assert Delivery.objects.filter(campaign=campaign).count() == 3
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="campaign-counts"' in page and 'hx-trigger="every 2s"' in page
    progress = client.get(f"/campaigns/{campaign.pk}/progress").content.decode()
    assert '<td class="num">3</td>' in progress  # the audience

    client.post(f"/campaigns/{campaign.pk}/pause")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert "Resume" in client.get(f"/campaigns/{campaign.pk}/").content.decode()


def test_a_campaign_without_an_audience_is_refused_with_the_reason(client_for: ClientFor) -> None:
    _, template = _setup()
    page = client_for(Role.MARKETER).post(
        "/campaigns/new", {"name": "Empty", "template": template, "schedule_mode": "now",
                           "cap_action": "defer"},
    ).content.decode()  # fmt: skip
    assert "This field is required" in page
    assert not Campaign.objects.filter(name="Empty").exists()


def test_viewers_see_campaigns_but_cannot_create_or_start_them(client_for: ClientFor) -> None:
    _, template = _setup()
    campaign = Campaign.objects.create(name="Seen", template_id=template)
    client = client_for(Role.VIEWER)
    assert client.get("/campaigns/").status_code == 200
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
    assert client.get("/campaigns/new").status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/start").status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_unknown_rows_are_explained_and_resent_on_request_and_bounces_are_counted(
    client_for: ClientFor, settings: object
) -> None:
    settings.SMTP_URL = "smtp://127.0.0.1:9"  # type: ignore[attr-defined] # nothing listens
    listing, template = _setup()
    client = client_for(Role.MARKETER)
    campaign = Campaign.objects.create(name="Crashed", template_id=template)
    campaign.audience.create(segment_id=listing)
    client.post(f"/campaigns/{campaign.pk}/start")
    rows = list(Delivery.objects.filter(campaign=campaign).order_by("pk"))
    Delivery.objects.filter(pk=rows[0].pk).update(state=DeliveryState.UNKNOWN)
    Delivery.objects.filter(pk=rows[1].pk).update(state=DeliveryState.SENT)
    handle(Finding(Kind.HARD, rows[1].pk), source="imap", key="<nd@mx>")

    progress = client.get(f"/campaigns/{campaign.pk}/progress").content.decode()
    assert '<td class="num" id="count-bounced">1</td>' in progress
    assert "may or may not have arrived" in progress and 'id="resend-unknown"' in progress
    assert (
        'id="resend-unknown"'
        not in client_for(Role.VIEWER).get(f"/campaigns/{campaign.pk}/progress").content.decode()
    )

    assert client.post(f"/campaigns/{campaign.pk}/resend_unknown").status_code == 302
    # Queued again, and tried at once by the send task (nothing listens here: deferred).
    assert Delivery.objects.get(pk=rows[0].pk).state in (
        DeliveryState.QUEUED,
        DeliveryState.DEFERRED,
    )
