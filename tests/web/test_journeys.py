"""The journey pages: the list with recipes, a journey's step tree and counts, editing its
definition (errors shown, nothing lost), switching it on and off, and who may do what."""

from __future__ import annotations

import json

import pytest

from rapport.automation.models import Journey, JourneyState, StaffNotification
from rapport.content.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postal_address() -> None:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})


def test_a_marketer_builds_a_journey_from_a_recipe_and_switches_it_on(client_for):
    client = client_for("marketer")
    listing = client.get("/journeys/")
    assert b"recipe-birthday" in listing.content

    made = client.post("/journeys/recipe", {"recipe": "birthday"})
    journey = Journey.objects.get()
    assert made.headers["Location"] == f"/journeys/{journey.pk}/"
    page = client.get(f"/journeys/{journey.pk}/").content.decode()
    assert 'id="step-s1"' in page and 'id="step-s5"' in page  # the wait, the emails, points
    assert "Birthday (简体中文)" in page

    client.post(f"/journeys/{journey.pk}/enable")
    journey.refresh_from_db()
    assert journey.state == JourneyState.ENABLED
    client.post(f"/journeys/{journey.pk}/disable")
    journey.refresh_from_db()
    assert journey.state == JourneyState.DISABLED


def test_a_bad_edit_shows_its_error_and_keeps_what_was_typed(client_for):
    client = client_for("owner")
    client.post("/journeys/recipe", {"recipe": "welcome"})
    journey = Journey.objects.get()
    typed = json.dumps({"trigger": {"type": "subscribed"}, "steps": [{"type": "wait"}]})
    answer = client.post(f"/journeys/{journey.pk}/", {"name": "Welcome", "definition": typed})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "steps[0]: a wait is a duration" in page
    assert "&quot;wait&quot;" in page  # the text is still there to fix
    journey.refresh_from_db()
    assert journey.definition["trigger"] == {"type": "subscribed"}
    assert len(journey.definition["steps"]) == 7  # unchanged

    fixed = json.dumps({"trigger": {"type": "subscribed"}, "steps": [{"type": "wait", "days": 1}]})
    client.post(f"/journeys/{journey.pk}/", {"name": "Welcome again", "definition": fixed})
    journey.refresh_from_db()
    assert journey.name == "Welcome again"
    assert journey.definition["steps"] == [{"id": "s1", "type": "wait", "days": 1}]


def test_a_new_journey_from_json(client_for):
    client = client_for("marketer")
    assert client.get("/journeys/new").status_code == 200
    definition = {"trigger": {"type": "contact_created"}, "steps": [{"type": "tag", "add": ["x"]}]}
    answer = client.post("/journeys/new", {"name": "Tagger", "definition": json.dumps(definition)})
    assert answer.status_code == 302
    assert Journey.objects.get().name == "Tagger"
    bad = client.post("/journeys/new", {"name": "Broken", "definition": "{not json"})
    assert "The definition is not valid JSON" in bad.content.decode()


def test_viewers_see_journeys_but_may_not_change_them(client_for):
    client_for("owner").post("/journeys/recipe", {"recipe": "winback"})
    journey = Journey.objects.get()
    viewer = client_for("viewer")
    assert viewer.get(f"/journeys/{journey.pk}/").status_code == 200
    assert b"journey-form" not in viewer.get(f"/journeys/{journey.pk}/").content
    assert viewer.get("/journeys/new").status_code == 403
    assert viewer.post("/journeys/recipe", {"recipe": "birthday"}).status_code == 403
    assert viewer.post(f"/journeys/{journey.pk}/enable").status_code == 403
    assert Journey.objects.count() == 1


def test_in_app_notifications_are_listed_and_read(client_for):
    client = client_for("admin")
    StaffNotification.objects.create(
        user=client.user, channel="app", text="Li Na did not come back.",
        created_at="2027-01-01T00:00:00Z",
    )  # fmt: skip
    assert "Li Na did not come back." in client.get("/journeys/").content.decode()
    client.post("/journeys/notifications/read")
    assert "Li Na did not come back." not in client.get("/journeys/").content.decode()


def test_the_journey_pages_in_chinese(client_for):
    client = client_for("owner", language="zh-hans")
    client.post("/journeys/recipe", {"recipe": "spring_festival"})
    journey = Journey.objects.get()
    assert "自动化旅程" in client.get("/journeys/").content.decode()
    assert "在此等待" in client.get(f"/journeys/{journey.pk}/").content.decode()


def test_the_editor_shows_a_bad_definition_in_chinese_to_a_chinese_user(client_for):
    client = client_for("marketer", language="zh-hans")
    typed = json.dumps({"trigger": {"type": "subscribed"}, "steps": [{"type": "wait"}]})
    answer = client.post("/journeys/new", {"name": "Welcome", "definition": typed})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "steps[0]: 等待步骤只能是以下一种" in page and "a wait is a duration" not in page
    assert not Journey.objects.exists()

    in_rule = {"trigger": {"type": "subscribed"},
               "steps": [{"type": "condition", "rules": {"field": "orders.count", "op": "gte",
                          "value": "x"}, "yes": [], "no": []}]}  # fmt: skip
    answer = client.post("/journeys/new", {"name": "Buyers", "definition": json.dumps(in_rule)})
    assert "steps[0].rules: value: &#x27;x&#x27; 不是数字" in answer.content.decode()
    nameless = client.post("/journeys/new", {"name": " ", "definition": typed}).content.decode()
    assert "旅程需要一个名称。" in nameless
