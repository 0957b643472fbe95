"""/api/v1/campaigns/{id}/ab-test, /api/v1/frequency-tests and /api/v1/send-hours."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rapport.campaigns.models import ABTest, SendHour
from rapport.content.models import Workspace
from rapport.crm.models import Event, EventType
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.api.conftest import ApiClient, client_for
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _audience(count: int = 10) -> None:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name="Friends", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=listing, contact=make_contact(email=f"f{n}@example.com"))
        for n in range(count)
    )


def _campaign(client: ApiClient) -> int:
    created = client.post_json(
        "/api/v1/campaigns",
        {"name": "Autumn", "template": "Newsletter (English)", "audience": ["Friends"],
         "schedule_mode": "best_hour"},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["schedule_mode"] == "best_hour"
    return int(created.json()["id"])


def test_set_up_start_and_read_an_ab_test() -> None:
    _audience()
    client = client_for("marketer")
    campaign = _campaign(client)
    body = {
        "variants": [{}, {"subject": "Autumn sale", "from_name": "Mei", "local_time": "18:30"}],
        "test_share": 40, "metric": "open", "confidence": 0.99, "wait_hours": 6,
    }  # fmt: skip
    answer = client.put_json(f"/api/v1/campaigns/{campaign}/ab-test", body)
    assert answer.status_code == 200, answer.content
    test = answer.json()
    assert (test["state"], test["metric"], test["confidence"]) == ("draft", "open", 0.99)
    assert [v["label"] for v in test["variants"]] == ["A", "B"]
    assert test["variants"][1]["local_time"] == "18:30:00"
    assert client.post_json(f"/api/v1/campaigns/{campaign}/send", {}).status_code == 200
    test = client.get(f"/api/v1/campaigns/{campaign}/ab-test").json()
    assert test["state"] == "testing" and test["decide_at"]
    assert sum(v["recipients"] for v in test["result"]["variants"]) == 0  # none sent yet
    assert test["result"]["comparisons"][0]["label"] == "B"
    gone = client.delete(f"/api/v1/campaigns/{campaign}/ab-test")
    assert gone.status_code == 409 and "has started" in gone.json()["error"]


def test_ab_test_errors_name_the_field() -> None:
    _audience()
    client = client_for("owner")
    campaign = _campaign(client)
    path = f"/api/v1/campaigns/{campaign}/ab-test"
    bad = client.put_json(path, {"variants": [{}, {"subject": "{{ contact.frist_name }}"}]})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("Variant B: subject")
    assert bad.json()["field"] == "variants[B]"
    share = client.put_json(path, {"variants": [{}, {}], "test_share": 150})
    assert share.status_code == 400 and share.json()["field"] == "test_share"
    assert client.get(path).status_code == 404
    assert not ABTest.objects.exists()


def test_frequency_tests_through_the_api() -> None:
    _audience(20)
    client = client_for("marketer")
    created = client.post_json(
        "/api/v1/frequency-tests",
        {"name": "Cadence", "segment": "Friends", "caps": [{"messages": 1, "days": 7},
                                                            {"messages": 3, "days": 7}],
         "weeks": 8},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    test = created.json()
    assert test["state"] == "running"
    assert [g["contacts"] for g in test["result"]["groups"]] == [10, 10]
    assert test["result"]["verdict"] == "no_difference"
    assert [t["name"] for t in client.get("/api/v1/frequency-tests").json()] == ["Cadence"]
    assert client.get(f"/api/v1/frequency-tests/{test['id']}").json()["weeks"] == 8
    cancelled = client.post_json(f"/api/v1/frequency-tests/{test['id']}/cancel", {})
    assert cancelled.json()["state"] == "cancelled"
    again = client.post_json(f"/api/v1/frequency-tests/{test['id']}/cancel", {})
    assert again.status_code == 409
    bad = client.post_json(
        "/api/v1/frequency-tests",
        {"name": "Bad", "segment": "Friends", "caps": [{"messages": 1, "days": 7},
                                                        {"messages": 1, "days": 0}]},
    )  # fmt: skip
    assert bad.status_code == 400 and "Group 2" in bad.json()["error"]


def test_learning_send_hours_on_request() -> None:
    contact = make_contact()
    Event.objects.bulk_create(
        Event(contact=contact, type=EventType.OPENED, occurred_at=timezone.now()) for _ in range(4)
    )
    learned = client_for("marketer").post_json("/api/v1/send-hours/learn", {})
    assert learned.status_code == 200 and learned.json()["contacts"] == 1
    assert SendHour.objects.filter(contact=contact).exists()
    assert client_for("viewer").post_json("/api/v1/send-hours/learn", {}).status_code == 403
