"""Journey-definition errors speak the person's language: the same place, what is wrong in
Chinese under zh-hans, and the exact English texts integrators rely on otherwise."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.utils import translation

from rapport.automation.definition import assign_ids, parse_definition
from rapport.automation.services import create_from_recipe, enable_journey, save_journey
from rapport.content.models import Workspace
from rapport.errors import InvalidInput, RapportError
from tests.translation import CHINESE, assert_translated

WAIT = {"type": "wait", "days": 1}
HOLIDAYS_CN = (
    "new_year, spring_festival, qingming, labour_day, dragon_boat, mid_autumn, national_day, "
    "520, 618, double_11, double_12"
)


def _definition(steps: list[Any] | None = None, trigger: Any = None, **more: Any) -> Any:
    return {"trigger": trigger or {"type": "contact_created"}, "steps": steps or [WAIT], **more}


def _step(**step: Any) -> Any:
    return _definition([step])


def _trigger(**trigger: Any) -> Any:
    return _definition(trigger=trigger)


# (definition, place, the exact English message): one case for every check in definition.py.
CASES: list[tuple[Any, str, str]] = [
    ([], "definition", "must be an object with trigger and steps"),
    (_definition(colour="red"), "colour", "is not part of a journey definition"),
    (_definition(reentry="twice"), "reentry", "'twice' is not once, yearly or always"),
    (_definition(cap=[3]), "cap", 'must be {"messages": N, "days": D}'),
    (
        _definition(cap={"messages": 0, "days": 7}),
        "cap.messages",
        "0 is not a whole number of at least 1",
    ),
    (
        {"trigger": {"type": "contact_created"}, "steps": []},
        "steps",
        "a journey needs at least one step",
    ),
    (_definition([dict(WAIT) for _ in range(201)]), "steps", "at most 200 steps"),
    (_step(type="wait", days="two"), "steps[0].days", "'two' is not a whole number"),
    (_step(type="wait", days=-2), "steps[0].days", "-2 is negative"),
    (
        _step(type="wait", until="birthday", at="9am"),
        "steps[0].at",
        "'9am' is not a time like 09:30",
    ),
    (_trigger(type="order", products=[1]), "trigger.products", "must be a list of words"),
    (
        _step(
            type="condition", rules={"all": [{"field": "orders.count", "op": "gte", "value": "x"}]}
        ),
        "steps[0].rules",
        "all[0].value: 'x' is not a number",
    ),
    (
        _trigger(type="date", field="created"),
        "trigger.field",
        "'created' is not a date field (birthday or custom.<key>)",
    ),
    (
        _trigger(type="moon"),
        "trigger.type",
        "must be one of contact_created, subscribed, first_order, order, event, segment_entered, "
        "segment_left, date, holiday, inactivity",
    ),
    (_trigger(type="event"), "trigger.name", "the event's name, e.g. webinar_attended"),
    (_trigger(type="segment_entered"), "trigger.segment", "the segment (id or name)"),
    (
        _trigger(type="date", leap_day="feb29"),
        "trigger.leap_day",
        "feb28 or mar1 (when 29 February is celebrated)",
    ),
    (
        _trigger(type="holiday", country="CN", holiday="easter_bunny"),
        "trigger.holiday",
        f"'easter_bunny' is not a holiday of CN; known: {HOLIDAYS_CN}",
    ),
    (_trigger(type="inactivity", stage="new"), "trigger.stage", "only the lapsed stage"),
    (
        _step(type="condition", rules={"field": "city", "op": "eq", "value": "x"}, yes={}),
        "steps[0].yes",
        "must be a list of steps",
    ),
    (
        _step(type="jump"),
        "steps[0].type",
        "must be one of wait, condition, split, email, tag, field, points, notify, goal, exit",
    ),
    (_step(type="wait", days=1, id="bad id!"), "steps[0].id", "'bad id!' is not a step id"),
    (
        _definition([dict(WAIT, id="s1"), dict(WAIT, id="s1")]),
        "steps[1].id",
        "'s1' is used twice",
    ),
    (_step(type="email"), "steps[0].template", "the template (id or name) to send"),
    (_step(type="tag"), "steps[0].add", "tags to add or remove"),
    (
        _step(type="field", field="email", value="x"),
        "steps[0].field",
        "a contact field (not email or status) and a value",
    ),
    (_step(type="points", points=0), "steps[0].points", "0 points changes nothing"),
    (_step(type="notify", channel="sms", message="hi"), "steps[0].channel", "app or email"),
    (_step(type="notify"), "steps[0].message", "what to tell the staff"),
    (_step(type="goal", event="won"), "steps[0].event", "ordered or clicked"),
    (
        _step(type="wait"),
        "steps[0]",
        "a wait is a duration (minutes/hours/days), until a date field, or a window",
    ),
    (
        _step(type="wait", window="9-11"),
        "steps[0].window",
        'must be {"start": "09:00", "end": "11:00"}',
    ),
    (
        _step(type="wait", window={"start": "11:00", "end": "09:00"}),
        "steps[0].window.end",
        "must be after the start",
    ),
    (
        _step(type="wait", window={"start": "09:00", "end": "11:00", "days": [7]}),
        "steps[0].window.days",
        "weekdays 0 (Monday) to 6",
    ),
    (
        _step(type="split", branches=[{"steps": []}]),
        "steps[0].branches",
        "a split needs at least two branches",
    ),
    (
        _step(type="split", mode="coin", branches=[{"steps": []}, {"steps": []}]),
        "steps[0].mode",
        "random or rules",
    ),
    (
        _step(type="split", branches=[{"steps": [], "weight": 1}, 3]),
        "steps[0].branches[1]",
        'must be {"steps": [...]} with a weight or rules',
    ),
    (
        _step(type="split", branches=[{"steps": [], "weight": 0}, {"steps": [], "weight": 1}]),
        "steps[0].branches[0].weight",
        "0 is not a whole number of at least 1",
    ),
    (
        _step(type="split", mode="rules", branches=[{"steps": []}, {"steps": []}]),
        "steps[0].branches[0].rules",
        "only the last branch may be without rules",
    ),
]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("compiled_catalogues")]


def _error(definition: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_definition(assign_ids(copy.deepcopy(definition)))
    return caught.value


@pytest.mark.parametrize(("definition", "place", "english"), CASES)
def test_the_same_bad_definition_in_english_and_in_chinese(
    definition: Any, place: str, english: str
) -> None:
    error = _error(definition)
    assert (error.field, error.message) == (place, f"{place}: {english}")

    with translation.override("zh-hans"):
        chinese = _error(definition)
    assert chinese.field == place
    assert_translated(error.message, chinese.message, place)


def test_a_rule_inside_a_journey_names_both_places_in_chinese() -> None:
    definition = _step(
        type="condition", rules={"any": [{"field": "orders.count", "op": "gte", "value": "x"}]}
    )
    with translation.override("zh-hans"):
        message = _error(definition).message
    assert message == "steps[0].rules: any[0].value: 'x' 不是数字"


SAVE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"name": " "}, "A journey needs a name."),
    ({"name": "x" * 151}, "A journey's name is at most 150 characters."),
    ({"name": "Taken"}, "There is already a journey called 'Taken'."),
]


@pytest.mark.parametrize(("arguments", "english"), SAVE_CASES)
def test_the_editor_s_other_checks_in_english_and_in_chinese(
    arguments: dict[str, Any], english: str
) -> None:
    save_journey(_definition(), name="Taken", acting_user=None)
    with pytest.raises(RapportError) as caught:
        save_journey(_definition(), acting_user=None, **arguments)
    assert caught.value.message == english
    with translation.override("zh-hans"), pytest.raises(RapportError) as caught:
        save_journey(_definition(), acting_user=None, **arguments)
    assert CHINESE.search(caught.value.message), caught.value.message
    assert caught.value.message != english


def test_a_missing_reference_names_the_step_in_chinese() -> None:
    missing = [
        (
            _definition([WAIT, {"type": "email", "template": "Nope"}]),
            "step s2 (email): There is no template 'Nope'.",
            "步骤 s2（email）：没有模板 'Nope'。",
        ),
        (
            _trigger(type="segment_left", segment="Gone"),
            "trigger.segment: There is no segment 'Gone'.",
            "trigger.segment: 没有分群 'Gone'。",
        ),
    ]
    for definition, english, chinese in missing:
        for language, expected in (("en", english), ("zh-hans", chinese)):
            with translation.override(language), pytest.raises(InvalidInput) as caught:
                save_journey(definition, name="J", acting_user=None)
            assert caught.value.message == expected


def test_an_unknown_recipe_and_a_missing_postal_address_in_chinese() -> None:
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as caught:
        create_from_recipe("nope", acting_user=None)
    assert caught.value.message.startswith("没有 'nope' 这个现成方案；可选：welcome, birthday")
    Workspace.objects.filter(pk=1).update(postal_address="")
    journey = create_from_recipe("birthday", acting_user=None)
    with pytest.raises(InvalidInput) as caught:
        enable_journey(journey.pk, acting_user=None)
    assert caught.value.message.startswith("Set the organisation's postal address first")
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as caught:
        enable_journey(journey.pk, acting_user=None)
    assert caught.value.message.startswith("请先在“设置”中填写机构的邮政地址")
