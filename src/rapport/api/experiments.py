"""/api/v1/campaigns/{id}/ab-test, /api/v1/frequency-tests and /api/v1/send-hours: set up an
A/B test of a draft campaign and read its numbers; start, read and cancel frequency tests;
learn the contacts' best send hours now. The
same rules as the campaign pages and ``rapport campaign ab-test`` (they call the same
services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.api.common import ERRORS, acting_user
from rapport.campaigns import experiments, frequency, send_times
from rapport.campaigns.models import ABTest, FrequencyTest, Metric
from rapport.campaigns.services import get_campaign_for
from rapport.errors import NotFound

ab_router = Router(tags=["A/B tests"])
frequency_router = Router(tags=["frequency tests"])
send_hours_router = Router(tags=["send-time optimisation"])


class VariantIn(Schema):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field("", max_length=500, description="blank: the template's")
    preheader: str = Field("", max_length=500)
    template: int | str | None = Field(None, description="another template, id or name")
    from_name: str = Field("", max_length=200)
    local_time: dt.time | None = Field(None, description="send time in each contact's timezone")


class ABTestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    variants: list[VariantIn] = Field(min_length=2, max_length=4, description="A first")
    test_share: int = Field(20, description="percent of the audience in the test")
    metric: Metric = Metric.CLICK
    confidence: float = 0.95
    wait_hours: int = Field(4, description="after the last test message is due")


class VariantOut(Schema):
    label: str
    subject: str
    preheader: str
    template_id: int | None
    from_name: str
    local_time: dt.time | None


class ABTestOut(Schema):
    campaign_id: int
    state: str
    test_share: int
    metric: str
    confidence: float
    wait_hours: int
    decide_at: dt.datetime | None
    decided_at: dt.datetime | None
    winner: str = Field(description="the variant sent to the rest ('' until decided)")
    significant: bool | None
    variants: list[VariantOut]
    result: dict[str, Any] = Field(
        description="per variant: recipients, successes, value and its interval; per "
        "challenger: difference from A, its interval, p_value, significant; live until decided"
    )


def _ab_out(test: ABTest) -> dict[str, Any]:
    return {
        **{key: getattr(test, key) for key in (
            "campaign_id", "state", "test_share", "metric", "confidence", "wait_hours",
            "decide_at", "decided_at", "winner", "significant")},
        "variants": list(test.variants.all()),
        "result": experiments.result_of(test),
    }  # fmt: skip


def _test_of(request: HttpRequest, campaign_id: int) -> ABTest:
    campaign = get_campaign_for(acting_user(request), campaign_id)
    test = ABTest.objects.filter(campaign=campaign).first()
    if test is None:
        raise NotFound(f"The campaign {campaign.name!r} has no A/B test.")
    return test


def set_up_from(campaign_id: int, payload: ABTestIn, user: User | None) -> ABTest:
    """``experiments.set_up_test`` with what the API (and ``rapport campaign ab-test --spec``)
    was given."""
    return experiments.set_up_test(
        campaign_id,
        variants=[experiments.VariantSpec(**v.model_dump()) for v in payload.variants],
        test_share=payload.test_share,
        metric=payload.metric,
        confidence=payload.confidence,
        wait_hours=payload.wait_hours,
        acting_user=user,
    )


@ab_router.put("/{campaign_id}/ab-test", response={200: ABTestOut, **ERRORS})
def put_ab_test(request: HttpRequest, campaign_id: int, payload: ABTestIn) -> dict[str, Any]:
    """Set up (or replace) the A/B test of a draft campaign."""
    return _ab_out(set_up_from(campaign_id, payload, acting_user(request)))


@ab_router.get("/{campaign_id}/ab-test", response={200: ABTestOut, **ERRORS})
def get_ab_test(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return _ab_out(_test_of(request, campaign_id))


@ab_router.delete("/{campaign_id}/ab-test", response={204: None, **ERRORS})
def delete_ab_test(request: HttpRequest, campaign_id: int) -> Status[None]:
    experiments.remove_test(campaign_id, acting_user=acting_user(request))
    return Status(204, None)


class LearnOut(Schema):
    contacts: int = Field(description="contacts with a learned best hour now")
    removed: int
    ms: int


@send_hours_router.post("/learn", response={200: LearnOut, **ERRORS})
def learn_send_hours(request: HttpRequest) -> dict[str, int]:
    """Learn every contact's best hour now (the scheduler does it daily)."""
    require(acting_user(request), Perm.EDIT_CONTENT)
    report = send_times.learn(timezone.now())
    return {"contacts": report.contacts, "removed": report.removed, "ms": report.ms}


# -- frequency tests -------------------------------------------------------------------------


class CapIn(Schema):
    messages: int = Field(description="at most this many marketing emails")
    days: int = Field(description="in this many days")


class FrequencyTestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    segment: int | str = Field(description="segment or list, id or name")
    caps: list[CapIn] = Field(min_length=2, max_length=4, description="group A (control) first")
    weeks: int = 6
    share: int = Field(100, description="percent of the segment in the test")
    confidence: float = 0.95


class FrequencyTestOut(Schema):
    id: int
    name: str
    segment_id: int
    state: str
    weeks: int
    share: int
    confidence: float
    started_at: dt.datetime
    ends_at: dt.datetime


class FrequencyTestDetailOut(FrequencyTestOut):
    result: dict[str, Any] = Field(
        description="per group: contacts, emails, revenue and unsubscribes per contact; per "
        "challenger: the differences from A with intervals and p-values; the recommended cap"
    )


def _frequency_out(test: FrequencyTest) -> dict[str, Any]:
    return {**FrequencyTestOut.from_orm(test).model_dump(), "result": frequency.result_of(test)}


@frequency_router.get("", response={200: list[FrequencyTestOut], **ERRORS})
def list_frequency_tests(request: HttpRequest) -> list[FrequencyTest]:
    require(acting_user(request), Perm.VIEW_CONTACTS)
    return list(FrequencyTest.objects.all()[:200])


@frequency_router.post("", response={201: FrequencyTestDetailOut, **ERRORS})
def create_frequency_test(request: HttpRequest, payload: FrequencyTestIn) -> Status[dict[str, Any]]:
    test = frequency.start_frequency_test(
        name=payload.name,
        segment=payload.segment,
        caps=[frequency.GroupCap(cap.messages, cap.days) for cap in payload.caps],
        weeks=payload.weeks,
        share=payload.share,
        confidence=payload.confidence,
        acting_user=acting_user(request),
    )
    return Status(201, _frequency_out(test))


@frequency_router.get("/{test_id}", response={200: FrequencyTestDetailOut, **ERRORS})
def get_frequency_test(request: HttpRequest, test_id: int) -> dict[str, Any]:
    return _frequency_out(frequency.get_frequency_test_for(acting_user(request), test_id))


@frequency_router.post("/{test_id}/cancel", response={200: FrequencyTestDetailOut, **ERRORS})
def cancel_frequency_test(request: HttpRequest, test_id: int) -> dict[str, Any]:
    test = frequency.cancel_frequency_test(test_id, acting_user=acting_user(request))
    return _frequency_out(test)
