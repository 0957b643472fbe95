"""/api/v1/campaigns: the life of a campaign through the API, and its clear errors."""

from __future__ import annotations

import pytest

from rapport.content.models import Workspace
from rapport.delivery.bounces import Finding, Kind
from rapport.delivery.bouncing import handle
from rapport.delivery.models import Delivery, DeliveryState
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.api.conftest import client_for
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _audience(count: int = 3) -> None:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name="Friends", kind=SegmentKind.STATIC)
    for n in range(count):
        SegmentMember.objects.create(
            segment=listing, contact=make_contact(email=f"f{n}@example.com", status="subscribed")
        )


def test_create_send_pause_resume_cancel_with_status_at_each_step() -> None:
    _audience()
    client = client_for("marketer")

    created = client.post_json(
        "/api/v1/campaigns",
        {"name": "Autumn", "template": "Newsletter (English)", "audience": ["Friends"]},
    )
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["state"] == "draft" and campaign["status"]["audience"] == 0

    sent = client.post_json(f"/api/v1/campaigns/{campaign['id']}/send", {})
    assert sent.json()["state"] == "sending"
    assert sent.json()["status"]["audience"] == 3
    paused = client.post_json(f"/api/v1/campaigns/{campaign['id']}/pause", {})
    assert paused.json()["state"] == "paused"
    resumed = client.post_json(f"/api/v1/campaigns/{campaign['id']}/resume", {})
    assert resumed.json()["state"] == "sending"
    cancelled = client.post_json(f"/api/v1/campaigns/{campaign['id']}/cancel", {})
    assert cancelled.json()["state"] == "cancelled"
    listed = client.get("/api/v1/campaigns?state=cancelled").json()
    assert [c["name"] for c in listed] == ["Autumn"]


def test_the_status_counts_bounces_and_complaints_reported_back() -> None:
    _audience(2)
    client = client_for("owner")
    campaign = client.post_json(
        "/api/v1/campaigns",
        {"name": "Bounce", "template": "Newsletter (English)", "audience": ["Friends"]},
    ).json()
    client.post_json(f"/api/v1/campaigns/{campaign['id']}/send", {})
    rows = list(Delivery.objects.filter(campaign_id=campaign["id"]).order_by("pk"))
    Delivery.objects.filter(campaign_id=campaign["id"]).update(state=DeliveryState.SENT)
    handle(Finding(Kind.HARD, rows[0].pk), source="imap", key="<1@mx>")
    handle(Finding(Kind.COMPLAINT, rows[1].pk), source="imap", key="<2@mx>")

    status = client.get(f"/api/v1/campaigns/{campaign['id']}").json()["status"]

    assert status["sent"] == 2
    assert (status["bounced"], status["complained"]) == (1, 1)


def test_mistakes_get_clear_answers() -> None:
    _audience()
    client = client_for("owner")

    unknown = client.post_json(
        "/api/v1/campaigns",
        {"name": "X", "template": "No such template", "audience": ["Friends"]},
    )
    assert unknown.status_code == 404
    assert "No such template" in unknown.json()["error"]
    campaign = client.post_json(
        "/api/v1/campaigns",
        {"name": "Y", "template": "Newsletter (English)", "audience": ["Friends"]},
    ).json()
    too_early = client.post_json(f"/api/v1/campaigns/{campaign['id']}/pause", {})
    assert too_early.status_code == 409
    assert "is draft; it cannot become paused" in too_early.json()["error"]
    no_time = client.post_json(
        "/api/v1/campaigns",
        {"name": "Z", "template": "Newsletter (English)", "audience": ["Friends"],
         "schedule_mode": "at"},
    )  # fmt: skip
    assert no_time.status_code == 400
    assert no_time.json()["field"] == "send_at"


def test_a_segment_a_campaign_went_to_cannot_be_deleted() -> None:
    _audience()
    client = client_for("owner")
    client.post_json(
        "/api/v1/campaigns",
        {"name": "Kept", "template": "Newsletter (English)", "audience": ["Friends"]},
    )
    segment = Segment.objects.get(name="Friends")

    response = client.delete(f"/api/v1/segments/{segment.pk}")

    assert response.status_code == 409
    assert "audience of the campaign Kept" in response.json()["error"]
    assert Segment.objects.filter(pk=segment.pk).exists()
