"""The role matrix: every endpoint called by every role, and by no one, with the exact status.

The expected statuses are written out here rather than read from ``roles.py``, so that a change
to the permission table that nobody meant shows up as a failing test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rapport.automation.recipes import recipe_definition
from rapport.automation.services import enable_journey, save_journey
from rapport.campaigns.experiments import VariantSpec, set_up_test
from rapport.campaigns.frequency import GroupCap, start_frequency_test
from rapport.campaigns.services import create_campaign, pause_campaign, start_campaign
from rapport.content.models import Template, Workspace
from rapport.crm.models import Event, EventType, ImportJob, ImportKind, ImportStatus
from rapport.delivery.models import Suppression, SuppressionReason
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.api.conftest import ApiClient, client_for
from tests.factories import make_contact, make_order, make_product

ROLES = ["owner", "admin", "marketer", "support", "viewer", None]  # None: anonymous

# endpoint                 owner admin marketer support viewer anonymous
MATRIX: dict[str, tuple[int, int, int, int, int, int]] = {
    "contacts.list":        (200, 200, 200, 200, 200, 401),
    "contacts.get":         (200, 200, 200, 200, 200, 401),
    "contacts.create":      (201, 201, 201, 201, 403, 401),
    "contacts.update":      (200, 200, 200, 200, 403, 401),
    "contacts.delete":      (204, 204, 403, 403, 403, 401),
    "products.list":        (200, 200, 200, 200, 200, 401),
    "products.get":         (200, 200, 200, 200, 200, 401),
    "products.create":      (201, 201, 201, 403, 403, 401),
    "products.update":      (200, 200, 200, 403, 403, 401),
    "products.delete":      (204, 204, 204, 403, 403, 401),
    "orders.list":          (200, 200, 200, 200, 200, 401),
    "orders.get":           (200, 200, 200, 200, 200, 401),
    "orders.create":        (201, 201, 201, 403, 403, 401),
    "orders.delete":        (204, 204, 204, 403, 403, 401),
    "events.list":          (200, 200, 200, 200, 200, 401),
    "events.get":           (200, 200, 200, 200, 200, 401),
    "events.create":        (201, 201, 201, 201, 403, 401),
    "imports.create":       (202, 202, 202, 403, 403, 401),
    "imports.get":          (200, 200, 200, 403, 403, 401),
    "imports.rejects":      (200, 200, 200, 403, 403, 401),
    "segments.list":        (200, 200, 200, 200, 200, 401),
    "segments.get":         (200, 200, 200, 200, 200, 401),
    "segments.create":      (201, 201, 201, 201, 403, 401),
    "segments.update":      (200, 200, 200, 200, 403, 401),
    "segments.delete":      (204, 204, 204, 204, 403, 401),
    "segments.count":       (200, 200, 200, 200, 200, 401),
    "segments.members":     (200, 200, 200, 200, 200, 401),
    "segments.add_members": (200, 200, 200, 200, 403, 401),
    "segments.del_members": (200, 200, 200, 200, 403, 401),
    "templates.list":       (200, 200, 200, 200, 200, 401),
    "templates.get":        (200, 200, 200, 200, 200, 401),
    "templates.create":     (201, 201, 201, 403, 403, 401),
    "templates.version":    (201, 201, 201, 403, 403, 401),
    "templates.render":     (200, 200, 200, 200, 200, 401),
    "coupons.list":         (200, 200, 200, 200, 200, 401),
    "coupons.create":       (201, 201, 201, 403, 403, 401),
    "coupons.issue":        (200, 200, 200, 403, 403, 401),
    "campaigns.list":       (200, 200, 200, 200, 200, 401),
    "campaigns.get":        (200, 200, 200, 200, 200, 401),
    "campaigns.create":     (201, 201, 201, 403, 403, 401),
    "campaigns.send":       (200, 200, 200, 403, 403, 401),
    "campaigns.pause":      (200, 200, 200, 403, 403, 401),
    "campaigns.resume":     (200, 200, 200, 403, 403, 401),
    "campaigns.cancel":     (200, 200, 200, 403, 403, 401),
    "ab_tests.put":         (200, 200, 200, 403, 403, 401),
    "ab_tests.get":         (200, 200, 200, 200, 200, 401),
    "ab_tests.delete":      (204, 204, 204, 403, 403, 401),
    "frequency_tests.list": (200, 200, 200, 200, 200, 401),
    "frequency_tests.create": (201, 201, 201, 403, 403, 401),
    "frequency_tests.get":  (200, 200, 200, 200, 200, 401),
    "frequency_tests.cancel": (200, 200, 200, 403, 403, 401),
    "send_hours.learn":     (200, 200, 200, 403, 403, 401),
    "campaigns.report":     (200, 200, 200, 200, 200, 401),
    "journeys.list":        (200, 200, 200, 200, 200, 401),
    "journeys.recipes":     (200, 200, 200, 200, 200, 401),
    "journeys.get":         (200, 200, 200, 200, 200, 401),
    "journeys.create":      (201, 201, 201, 403, 403, 401),
    "journeys.update":      (200, 200, 200, 403, 403, 401),
    "journeys.enable":      (200, 200, 200, 403, 403, 401),
    "journeys.disable":     (200, 200, 200, 403, 403, 401),
    "suppressions.list":    (200, 200, 200, 200, 200, 401),
    "suppressions.add":     (201, 201, 201, 201, 403, 401),
    "suppressions.delete":  (204, 204, 204, 204, 403, 401),
}  # fmt: skip


@dataclass(frozen=True)
class World:
    """One of everything, for the endpoints to act on."""

    contact: int
    product: int
    order: int
    event: int
    job: int
    segment: int  # a static list with the contact in it
    template: int
    draft: int  # campaigns in each state an action needs
    sending: int
    paused: int
    frequency_test: int
    series: str = "BDAY"
    journey: int = 0  # a draft journey
    running: int = 0  # an enabled one
    blocked: str = "blocked@example.org"  # on the suppression list, blocked by staff


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {contact}, {product}, … from the World
    body: Callable[[], dict[str, Any]] | None = None
    multipart: bool = False
    # A body that names rows of the World, e.g. the contact's id.
    world_body: Callable[[World], dict[str, Any]] | None = None


ENDPOINTS: dict[str, Endpoint] = {
    "contacts.list": Endpoint("GET", "/api/v1/contacts"),
    "contacts.get": Endpoint("GET", "/api/v1/contacts/{contact}"),
    "contacts.create": Endpoint("POST", "/api/v1/contacts", lambda: {"email": "new@example.org"}),
    "contacts.update": Endpoint("PATCH", "/api/v1/contacts/{contact}", lambda: {"city": "Xi'an"}),
    "contacts.delete": Endpoint("DELETE", "/api/v1/contacts/{contact}"),
    "products.list": Endpoint("GET", "/api/v1/products"),
    "products.get": Endpoint("GET", "/api/v1/products/{product}"),
    "products.create": Endpoint(
        "POST", "/api/v1/products", lambda: {"sku": "NEW-1", "name": "New lens"}
    ),
    "products.update": Endpoint("PATCH", "/api/v1/products/{product}", lambda: {"price": "5"}),
    "products.delete": Endpoint("DELETE", "/api/v1/products/{product}"),
    "orders.list": Endpoint("GET", "/api/v1/orders"),
    "orders.get": Endpoint("GET", "/api/v1/orders/{order}"),
    "orders.create": Endpoint(
        "POST",
        "/api/v1/orders",
        lambda: {
            "external_id": "NEW-ORDER",
            "email": "buyer@example.org",
            "placed_at": "2026-01-02T03:04:05Z",
            "lines": [{"sku": "X", "unit_price": "1"}],
        },
    ),
    "orders.delete": Endpoint("DELETE", "/api/v1/orders/{order}"),
    "events.list": Endpoint("GET", "/api/v1/events"),
    "events.get": Endpoint("GET", "/api/v1/events/{event}"),
    "events.create": Endpoint(
        "POST", "/api/v1/events", lambda: {"email": "known@example.org", "name": "demo_booked"}
    ),
    "imports.create": Endpoint(
        "POST",
        "/api/v1/imports",
        lambda: {
            "kind": "contacts",
            "file": SimpleUploadedFile("c.csv", b"email\na@example.org\n", "text/csv"),
        },
        multipart=True,
    ),
    "imports.get": Endpoint("GET", "/api/v1/imports/{job}"),
    "imports.rejects": Endpoint("GET", "/api/v1/imports/{job}/rejects"),
    "segments.list": Endpoint("GET", "/api/v1/segments"),
    "segments.get": Endpoint("GET", "/api/v1/segments/{segment}"),
    "segments.create": Endpoint(
        "POST",
        "/api/v1/segments",
        lambda: {"name": "New", "rules": {"field": "country", "op": "eq", "value": "CN"}},
    ),
    "segments.update": Endpoint(
        "PATCH", "/api/v1/segments/{segment}", lambda: {"description": "Regulars"}
    ),
    "segments.delete": Endpoint("DELETE", "/api/v1/segments/{segment}"),
    "segments.count": Endpoint(
        "POST",
        "/api/v1/segments/count",
        lambda: {"rules": {"field": "orders.count", "op": "gte", "value": 1}},
    ),
    "segments.members": Endpoint("GET", "/api/v1/segments/{segment}/members"),
    "segments.add_members": Endpoint(
        "POST", "/api/v1/segments/{segment}/members", lambda: {"emails": ["known@example.org"]}
    ),
    "segments.del_members": Endpoint(
        "DELETE",
        "/api/v1/segments/{segment}/members",
        world_body=lambda world: {"contact_ids": [world.contact]},
    ),
    "templates.list": Endpoint("GET", "/api/v1/templates"),
    "templates.get": Endpoint("GET", "/api/v1/templates/{template}"),
    "templates.create": Endpoint(
        "POST", "/api/v1/templates", lambda: {"name": "API", "subject": "Hi", "html": "<p>x</p>"}
    ),
    "templates.version": Endpoint(
        "POST",
        "/api/v1/templates/{template}/versions",
        lambda: {"subject": "Hi", "html": "<p>y</p>"},
    ),
    "templates.render": Endpoint(
        "POST",
        "/api/v1/templates/render",
        lambda: {
            "subject": "Hi",
            "html": "<p>{{ contact.email }}</p>",
            "contact_email": "known@example.org",
        },
    ),
    "coupons.list": Endpoint("GET", "/api/v1/coupon-series"),
    "coupons.create": Endpoint(
        "POST", "/api/v1/coupon-series", lambda: {"name": "SPRING", "value": "10"}
    ),
    "coupons.issue": Endpoint(
        "POST", "/api/v1/coupon-series/{series}/codes", lambda: {"emails": ["known@example.org"]}
    ),
    "campaigns.list": Endpoint("GET", "/api/v1/campaigns"),
    "campaigns.get": Endpoint("GET", "/api/v1/campaigns/{draft}"),
    "campaigns.create": Endpoint(
        "POST",
        "/api/v1/campaigns",
        lambda: {"name": "API spring", "template": "Welcome (English)", "audience": ["Regulars"]},
    ),
    "campaigns.send": Endpoint("POST", "/api/v1/campaigns/{draft}/send"),
    "campaigns.pause": Endpoint("POST", "/api/v1/campaigns/{sending}/pause"),
    "campaigns.resume": Endpoint("POST", "/api/v1/campaigns/{paused}/resume"),
    "campaigns.cancel": Endpoint("POST", "/api/v1/campaigns/{sending}/cancel"),
    "ab_tests.put": Endpoint(
        "PUT", "/api/v1/campaigns/{draft}/ab-test", lambda: {"variants": [{}, {"subject": "B"}]}
    ),
    "ab_tests.get": Endpoint("GET", "/api/v1/campaigns/{draft}/ab-test"),
    "ab_tests.delete": Endpoint("DELETE", "/api/v1/campaigns/{draft}/ab-test"),
    "frequency_tests.list": Endpoint("GET", "/api/v1/frequency-tests"),
    "frequency_tests.create": Endpoint(
        "POST",
        "/api/v1/frequency-tests",
        lambda: {
            "name": "Cadence",
            "segment": "Regulars",
            "caps": [{"messages": 1, "days": 7}, {"messages": 2, "days": 7}],
        },
    ),
    "frequency_tests.get": Endpoint("GET", "/api/v1/frequency-tests/{frequency_test}"),
    "frequency_tests.cancel": Endpoint("POST", "/api/v1/frequency-tests/{frequency_test}/cancel"),
    "send_hours.learn": Endpoint("POST", "/api/v1/send-hours/learn"),
    "campaigns.report": Endpoint("GET", "/api/v1/campaigns/{sending}/report"),
    "journeys.list": Endpoint("GET", "/api/v1/journeys"),
    "journeys.recipes": Endpoint("GET", "/api/v1/journeys/recipes"),
    "journeys.get": Endpoint("GET", "/api/v1/journeys/{journey}"),
    "journeys.create": Endpoint("POST", "/api/v1/journeys", lambda: {"recipe": "birthday"}),
    "journeys.update": Endpoint(
        "PATCH", "/api/v1/journeys/{journey}", lambda: {"description": "Say hello"}
    ),
    "journeys.enable": Endpoint("POST", "/api/v1/journeys/{journey}/enable"),
    "journeys.disable": Endpoint("POST", "/api/v1/journeys/{running}/disable"),
    "suppressions.list": Endpoint("GET", "/api/v1/suppressions"),
    "suppressions.add": Endpoint(
        "POST", "/api/v1/suppressions", lambda: {"email": "stop@example.org", "note": "asked"}
    ),
    "suppressions.delete": Endpoint(
        "DELETE",
        "/api/v1/suppressions/{blocked}",
        world_body=lambda world: {"reason": "blocked by mistake"},
    ),
}


def _world(tmp_path: Path) -> World:
    contact = make_contact(email="known@example.org")
    product = make_product()
    order = make_order(contact, [product])
    event = Event.objects.create(contact=contact, type=EventType.OPENED, occurred_at=timezone.now())
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("line,column,reason,email\n2,email,is empty,\n", encoding="utf-8")
    job = ImportJob.objects.create(
        kind=ImportKind.CONTACTS,
        status=ImportStatus.DONE,
        file_path=str(tmp_path / "in.csv"),
        original_name="in.csv",
        rows=2,
        created=1,
        rejected=1,
        rejects_path=str(rejects),
    )
    segment = Segment.objects.create(name="Regulars", kind=SegmentKind.STATIC)
    SegmentMember.objects.create(segment=segment, contact=contact)
    Suppression.objects.create(email=World.blocked, reason=SuppressionReason.BLOCKED)
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    audience = Segment.objects.create(name="Campaign audience", kind=SegmentKind.STATIC)
    SegmentMember.objects.create(segment=audience, contact=contact)
    campaigns = {
        state: create_campaign(
            name=state, template="Welcome (English)", audience=[audience.pk], acting_user=None
        ).pk
        for state in ("draft", "sending", "paused")
    }
    start_campaign(campaigns["sending"], acting_user=None)
    start_campaign(campaigns["paused"], acting_user=None)
    pause_campaign(campaigns["paused"], acting_user=None)
    set_up_test(campaigns["draft"], variants=[VariantSpec(), VariantSpec()], acting_user=None)
    frequency_test = start_frequency_test(
        name="Running", segment=audience.pk, caps=[GroupCap(1, 7), GroupCap(2, 7)],
        acting_user=None,
    )  # fmt: skip
    journeys = {
        key: save_journey(recipe_definition("welcome"), name=key, acting_user=None).pk
        for key in ("journey", "running")
    }
    enable_journey(journeys["running"], acting_user=None)
    return World(
        **journeys,
        contact=contact.pk,
        product=product.pk,
        order=order.pk,
        event=event.pk,
        job=job.pk,
        segment=segment.pk,
        template=Template.objects.get(name="Welcome (English)").pk,
        frequency_test=frequency_test.pk,
        **campaigns,
    )


def _call(client: ApiClient, endpoint: Endpoint, world: World) -> Any:
    url = endpoint.path.format(**vars(world))
    if endpoint.method == "GET":
        return client.get(url)
    body = endpoint.world_body(world) if endpoint.world_body else None
    if endpoint.method == "DELETE":
        if body is None:
            return client.delete(url)
        return client.delete(url, body, content_type="application/json")
    body = body or (endpoint.body() if endpoint.body else {})
    if endpoint.multipart:
        return client.post(url, body)
    send = {"POST": client.post_json, "PATCH": client.patch_json, "PUT": client.put_json}
    return send[endpoint.method](url, body)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
@pytest.mark.parametrize("name", list(MATRIX))
def test_role_matrix(name: str, role: str | None, tmp_path: Path) -> None:
    world = _world(tmp_path)
    client = client_for(role)
    expected = MATRIX[name][ROLES.index(role)]

    response = _call(client, ENDPOINTS[name], world)

    assert response.status_code == expected, (name, role, response.content[:300])
    if expected == 403:
        assert f"Your role ({role})" in response.json()["error"]
    elif expected == 401:
        assert response.json()["error"].startswith("Authentication required")


def test_every_endpoint_has_a_row_and_a_request() -> None:
    assert set(ENDPOINTS) == set(MATRIX)
