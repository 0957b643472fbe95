"""Journeys through the API and the ``rapport`` command; triggers from posted events, orders,
segments and inactivity."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from rapport.automation.models import EntryState, JourneyEntry
from rapport.campaigns.models import Campaign, CampaignKind, CampaignState
from rapport.crm.models import Contact, Order
from rapport.segments.models import ContactFacts, Segment, SegmentKind, SegmentMember
from tests.api.conftest import client_for
from tests.automation.conftest import make_journey, run
from tests.factories import make_contact, make_order, make_product
from tests.helpers import run_cli

TAG = [{"type": "tag", "add": ["entered"]}]


@pytest.mark.django_db
def test_a_journey_made_through_the_api_reacts_to_a_posted_event():
    api = client_for("marketer")
    definition = {
        "trigger": {"type": "event", "name": "webinar_attended"},
        "reentry": "always",
        "steps": [{"type": "email", "template": "Welcome (English)"}, *TAG],
    }
    made = api.post_json("/api/v1/journeys", {"name": "Webinar", "definition": definition})
    assert made.status_code == 201, made.content
    journey = made.json()
    assert [s["id"] for s in journey["steps"]] == ["s1", "s2"]
    assert api.post(f"/api/v1/journeys/{journey['id']}/enable").json()["state"] == "enabled"
    assert Campaign.objects.get(kind=CampaignKind.AUTOMATION).state == CampaignState.SENDING
    # Automation campaigns are not in the broadcast list.
    assert api.get("/api/v1/campaigns").json() == []
    assert len(api.get("/api/v1/campaigns?kind=automation").json()) == 1

    contact = make_contact(email="guest@example.com")
    for _ in range(2):
        posted = api.post_json(
            "/api/v1/events", {"email": "guest@example.com", "name": "webinar_attended"}
        )
        assert posted.status_code == 201
        run(timezone.now())
        run(timezone.now())

    assert JourneyEntry.objects.filter(contact=contact).count() == 2
    status = api.get(f"/api/v1/journeys/{journey['id']}").json()
    assert status["entries"]["completed"] == 2
    assert {s["id"]: s["done"] for s in status["steps"]} == {"s1": 2, "s2": 2}
    assert status["emails"] == {"queued": 2}


@pytest.mark.django_db
def test_an_invalid_definition_is_refused_with_its_place():
    api = client_for("owner")
    bad_template = {"trigger": {"type": "contact_created"},
                    "steps": [*TAG, {"type": "email", "template": "Nope"}]}  # fmt: skip
    answer = api.post_json("/api/v1/journeys", {"name": "X", "definition": bad_template})
    assert answer.status_code == 400
    assert answer.json()["error"] == "step s2 (email): There is no template 'Nope'."
    bad_wait = {"trigger": {"type": "contact_created"},
                "steps": [{"type": "condition", "rules": {"field": "country", "op": "eq",
                 "value": "CN"}, "yes": [{"type": "wait", "weeks": 2}]}]}  # fmt: skip
    answer = api.post_json("/api/v1/journeys", {"name": "X", "definition": bad_wait})
    assert answer.status_code == 400
    assert answer.json()["field"] == "steps[0].yes[0]"
    unknown = {"trigger": {"type": "holiday", "holiday": "easter_bunny"}, "steps": TAG}
    answer = api.post_json("/api/v1/journeys", {"name": "X", "definition": unknown})
    assert "'easter_bunny' is not a holiday of CN" in answer.json()["error"]


@pytest.mark.django_db
def test_order_triggers_first_order_and_products():
    now = dt.datetime(2027, 5, 1, 12, tzinfo=dt.UTC)
    lens = make_product(sku="LENS-1", category="lens")
    first = make_journey({"trigger": {"type": "first_order"}, "steps": TAG}, name="F",
                         on=now - dt.timedelta(hours=1))  # fmt: skip
    lenses = make_journey({"trigger": {"type": "order", "categories": ["lens"]},
                           "reentry": "always", "steps": TAG}, name="L",
                          on=now - dt.timedelta(hours=1))  # fmt: skip
    old_buyer = make_contact()
    make_order(old_buyer, placed_at=now - dt.timedelta(days=90))
    new_buyer = make_contact()
    make_order(new_buyer, [lens], placed_at=now - dt.timedelta(minutes=5))
    make_order(old_buyer, [lens], placed_at=now - dt.timedelta(minutes=4))
    Order.objects.filter(placed_at__gt=now - dt.timedelta(hours=1)).update(created_at=now)

    run(now + dt.timedelta(minutes=1))

    assert list(first.entries.values_list("contact_id", flat=True)) == [new_buyer.pk]
    assert sorted(lenses.entries.values_list("contact_id", flat=True)) == sorted(
        [new_buyer.pk, old_buyer.pk]
    )


@pytest.mark.django_db
def test_segment_enter_and_leave_triggers():
    vip = Segment.objects.create(name="VIP list", kind=SegmentKind.STATIC)
    already = make_contact()
    SegmentMember.objects.create(segment=vip, contact=already)
    now = dt.datetime(2027, 5, 1, 12, tzinfo=dt.UTC)
    entering = make_journey({"trigger": {"type": "segment_entered", "segment": "VIP list"},
                             "steps": TAG}, name="In", on=now)  # fmt: skip
    leaving = make_journey({"trigger": {"type": "segment_left", "segment": "VIP list"},
                            "steps": TAG}, name="Out", on=now)  # fmt: skip
    run(now + dt.timedelta(minutes=1))  # the first look: members already there did not enter
    newcomer = make_contact()
    SegmentMember.objects.create(segment=vip, contact=newcomer)
    SegmentMember.objects.filter(contact=already).delete()
    run(now + dt.timedelta(minutes=2))

    assert list(entering.entries.values_list("contact_id", flat=True)) == [newcomer.pk]
    assert list(leaving.entries.values_list("contact_id", flat=True)) == [already.pk]


@pytest.mark.django_db
def test_inactivity_takes_lapsed_buyers_and_again_after_a_new_lapse():
    now = dt.datetime(2027, 5, 1, 12, tzinfo=dt.UTC)
    quiet = make_contact()
    recent = make_contact()
    for contact, last in (
        (quiet, now - dt.timedelta(days=200)),
        (recent, now - dt.timedelta(days=10)),
    ):
        ContactFacts.objects.create(
            contact=contact, first_order_at=last, last_order_at=last, order_count=1,
            total_spent=10, lapses_at=last + dt.timedelta(days=113),
        )  # fmt: skip
    journey = make_journey({"trigger": {"type": "inactivity", "days": 90}, "reentry": "always",
                            "steps": TAG}, name="W", on=now)  # fmt: skip
    run(now)
    run(now + dt.timedelta(days=1))
    assert list(journey.entries.values_list("contact_id", flat=True)) == [quiet.pk]
    later = now + dt.timedelta(days=81)  # the recent buyer's 90 days are up
    run(later)
    assert sorted(journey.entries.values_list("contact_id", flat=True)) == sorted(
        [quiet.pk, recent.pk]
    )
    assert set(journey.entries.values_list("state", flat=True)) == {EntryState.COMPLETED}


@pytest.mark.django_db(transaction=True)
def test_the_command_line(tmp_path):
    from rapport.content.models import Workspace  # noqa: PLC0415

    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    make_contact(email="born@example.com", timezone="Asia/Shanghai", birthday=dt.date(1990, 2, 10))
    definition = tmp_path / "birthday.json"
    definition.write_text(json.dumps({
        "name": "Birthdays", "trigger": {"type": "date", "field": "birthday"},
        "steps": [{"type": "tag", "add": ["birthday"]}],
    }))  # fmt: skip

    made = run_cli("journey", "create", str(definition), "--enable", tmp_path=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().isdigit()
    recipe = run_cli("journey", "create", "--recipe", "winback", "--json", tmp_path=tmp_path)
    assert json.loads(recipe.stdout)["name"] == "Win-back"
    listed = json.loads(run_cli("journey", "list", "--json", tmp_path=tmp_path).stdout)
    assert [(j["name"], j["state"]) for j in listed] == [
        ("Birthdays", "enabled"),
        ("Win-back", "draft"),
    ]

    ticked = run_cli("tick", "--at", "2027-02-10T10:00:00+08:00", "--json", tmp_path=tmp_path)
    assert ticked.returncode == 0, ticked.stderr
    assert json.loads(ticked.stdout)["entered"] == {"Birthdays": 1}
    assert Contact.objects.get(email="born@example.com").tags == ["birthday"]
    status = json.loads(
        run_cli("journey", "status", "Birthdays", "--json", tmp_path=tmp_path).stdout
    )
    assert status["entries"]["completed"] == 1

    wrong = run_cli("tick", "--at", "2027-02-10 10:00", tmp_path=tmp_path)
    assert wrong.returncode == 2
    assert "has no UTC offset" in wrong.stderr
    off = run_cli("journey", "disable", "Birthdays", "--json", tmp_path=tmp_path)
    assert json.loads(off.stdout)["state"] == "disabled"
