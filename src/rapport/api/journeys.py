"""/api/v1/journeys: create journeys from JSON or a recipe, change them, switch them on and
off, and read where their contacts are, with the same rules as the UI and ``rapport journey``."""

from __future__ import annotations

from typing import Any, Self

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, model_validator

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.api.common import ERRORS, acting_user
from rapport.automation import queries, services
from rapport.automation.recipes import RECIPES, recipe_list

router = Router(tags=["journeys"])


class JourneyIn(Schema):
    """A journey from its ``definition`` (trigger, steps, reentry, cap) or from a ``recipe``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=150, description="default: the recipe's name")
    description: str = ""
    definition: dict[str, Any] | None = None
    recipe: str | None = Field(None, description=f"one of: {', '.join(RECIPES)}")
    enable: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.definition is None) == (self.recipe is None):
            raise ValueError("give a definition or a recipe (one of the two)")
        return self


class JourneyUpdate(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=150)
    description: str | None = None
    definition: dict[str, Any] | None = Field(
        None, description="the whole new definition; steps keep their ids"
    )


class JourneyOut(Schema):
    id: int
    name: str
    state: str
    trigger: str
    reentry: str
    recipe: str
    active: int = Field(description="contacts in the journey now")


class StepOut(Schema):
    id: str
    type: str
    depth: int
    summary: str
    waiting: int = Field(description="contacts at this step now")
    done: int = Field(description="times this step ran")
    sent: int = Field(description="emails sent by this step")


class StatusOut(Schema):
    id: int
    name: str
    state: str
    trigger: str
    reentry: str
    definition: dict[str, Any]
    entries: dict[str, int]
    steps: list[StepOut]
    emails: dict[str, int]
    emails_sent: int
    conversions: int = Field(description="orders attributed to the journey's emails")
    revenue: str = Field(description="their total, as a decimal string")


class RecipeOut(Schema):
    key: str
    name: str
    description: str


def _status(journey: Any) -> dict[str, Any]:
    return {**queries.journey_status(journey), "definition": journey.definition}


@router.get("", response={200: list[JourneyOut], **ERRORS})
def list_journeys(request: HttpRequest) -> list[dict[str, Any]]:
    return queries.journey_list_for(acting_user(request))


@router.get("/recipes", response={200: list[RecipeOut], **ERRORS})
def list_recipes(request: HttpRequest) -> list[dict[str, str]]:
    require(acting_user(request), Perm.VIEW_CONTACTS)
    return recipe_list()


@router.post("", response={201: StatusOut, **ERRORS})
def create_journey(request: HttpRequest, payload: JourneyIn) -> Status[dict[str, Any]]:
    user = acting_user(request)
    if payload.recipe is not None:
        journey = services.create_from_recipe(payload.recipe, name=payload.name, acting_user=user)
    else:
        journey = services.save_journey(
            payload.definition, name=payload.name, description=payload.description,
            acting_user=user,
        )  # fmt: skip
    if payload.enable:
        journey = services.enable_journey(journey.pk, acting_user=user)
    return Status(201, _status(journey))


@router.get("/{journey_id}", response={200: StatusOut, **ERRORS})
def get_journey(request: HttpRequest, journey_id: int) -> dict[str, Any]:
    return _status(services.get_journey_for(acting_user(request), journey_id))


@router.patch("/{journey_id}", response={200: StatusOut, **ERRORS})
def update_journey(request: HttpRequest, journey_id: int, payload: JourneyUpdate) -> dict[str, Any]:
    user = acting_user(request)
    current = services.get_journey_for(user, journey_id)
    journey = services.save_journey(
        current.definition if payload.definition is None else payload.definition,
        name=payload.name or current.name,
        description=current.description if payload.description is None else payload.description,
        journey_id=current.pk,
        acting_user=user,
    )
    return _status(journey)


@router.post("/{journey_id}/enable", response={200: StatusOut, **ERRORS})
def enable_journey(request: HttpRequest, journey_id: int) -> dict[str, Any]:
    return _status(services.enable_journey(journey_id, acting_user=acting_user(request)))


@router.post("/{journey_id}/disable", response={200: StatusOut, **ERRORS})
def disable_journey(request: HttpRequest, journey_id: int) -> dict[str, Any]:
    return _status(services.disable_journey(journey_id, acting_user=acting_user(request)))
