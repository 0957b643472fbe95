"""/api/v1/events against the real database: append-only timelines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rapport.crm.models import Event, EventType
from tests.api.conftest import ApiClient
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def test_record_a_custom_event_by_contact_id(api: ApiClient) -> None:
    contact = make_contact()
    response = api.post_json(
        URL,
        {
            "contact_id": contact.pk,
            "type": "custom",
            "name": "webinar_attended",
            "occurred_at": "2026-05-04T09:00:00+02:00",
            "data": {"webinar": "Spring launch"},
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "contact_id": contact.pk,
        "type": "custom",
        "name": "webinar_attended",
        "occurred_at": "2026-05-04T07:00:00Z",
        "campaign_id": None,
        "order_id": None,
        "data": {"webinar": "Spring launch"},
    }
    assert Event.objects.get(pk=body["id"]).actor == api.user
    assert api.get(f"{URL}/{body['id']}").json() == body


def test_record_by_email_defaults_to_now(api: ApiClient) -> None:
    contact = make_contact(email="reader@example.org")
    before = timezone.now()
    response = api.post_json(URL, {"email": "Reader@Example.org", "type": "replied"})
    assert response.status_code == 201, response.content
    event = Event.objects.get(pk=response.json()["id"])
    assert event.contact == contact
    assert before <= event.occurred_at <= timezone.now()


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"type": "custom", "name": "x"}, 422, "body"),
        ({"contact_id": 1, "email": "a@example.org", "name": "x"}, 422, "body"),
        ({"contact_id": "abc", "type": "custom", "name": "x"}, 422, "contact_id"),
        ({"contact_id": "CONTACT", "type": "teleported"}, 422, "type"),
        ({"contact_id": "CONTACT", "type": "custom"}, 400, "name"),
        (
            {"contact_id": "CONTACT", "name": "x", "occurred_at": "2026-05-04T09:00"},
            422,
            "occurred_at",
        ),
        ({"contact_id": "CONTACT", "name": "x", "campaign_id": 3}, 422, "campaign_id"),
        ({"email": "nobody@example.org", "name": "x"}, 404, None),
        ({"contact_id": 999999, "name": "x"}, 404, None),
    ],
)
def test_record_refuses_bad_input(
    api: ApiClient, payload: dict[str, Any], status: int, field: str | None
) -> None:
    contact = make_contact()
    if payload.get("contact_id") == "CONTACT":
        payload = {**payload, "contact_id": contact.pk}
    response = api.post_json(URL, payload)
    assert response.status_code == status, response.content
    assert response.json().get("field") == field
    assert response.json()["error"]
    assert not Event.objects.exists()


def test_events_cannot_be_changed_or_deleted(api: ApiClient) -> None:
    contact = make_contact()
    event = Event.objects.create(contact=contact, type=EventType.OPENED, occurred_at=timezone.now())
    assert api.patch_json(f"{URL}/{event.pk}", {"name": "x"}).status_code == 405
    assert api.put(f"{URL}/{event.pk}", {}, content_type="application/json").status_code == 405
    assert api.delete(f"{URL}/{event.pk}").status_code == 405
    assert Event.objects.filter(pk=event.pk, name="").exists()


def test_list_filters_and_pages(api: ApiClient) -> None:
    alice, bob = make_contact(), make_contact()
    now = timezone.now()
    opened = [
        Event.objects.create(
            contact=alice, type=EventType.OPENED, occurred_at=now - dt.timedelta(days=n)
        ).pk
        for n in range(5)
    ]
    Event.objects.create(contact=alice, type=EventType.CLICKED, occurred_at=now)
    Event.objects.create(contact=bob, type=EventType.OPENED, occurred_at=now)

    seen: list[int] = []
    cursor = ""
    for _ in range(3):
        response = api.get(f"{URL}?contact_id={alice.pk}&type=opened&limit=2&cursor={cursor}")
        seen += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"] or ""
    assert cursor == ""
    assert seen == sorted(opened, reverse=True)
    assert len(api.get(f"{URL}?contact_id={alice.pk}").json()["items"]) == 6
    assert len(api.get(f"{URL}?type=clicked").json()["items"]) == 1
    assert api.get(f"{URL}?type=teleported").status_code == 422


def test_missing_event_is_404(api: ApiClient) -> None:
    response = api.get(f"{URL}/31337")
    assert response.status_code == 404
    assert response.json() == {"error": "No event with id 31337."}


@pytest.mark.parametrize("kind", ["unsubscribed", "bounced", "opened", "ordered"])
def test_events_that_would_change_state_or_stats_cannot_be_posted(
    api: ApiClient, kind: str
) -> None:
    contact = make_contact()
    response = api.post_json(URL, {"contact_id": contact.pk, "type": kind})
    assert response.status_code == 400
    assert response.json()["field"] == "type"
    assert not contact.events.exists()
