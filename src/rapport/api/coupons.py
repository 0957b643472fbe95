"""/api/v1/coupon-series: offers with unique codes per contact, and issuing codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.api.common import ERRORS, acting_user
from rapport.content import coupons
from rapport.content.models import CouponSeries, DiscountKind
from rapport.crm.models import Contact
from rapport.errors import NotFound

router = Router(tags=["coupons"])
MAX_CONTACTS_PER_CALL = 1000


class SeriesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, description='used as coupon("NAME")')
    kind: DiscountKind = DiscountKind.PERCENT
    value: Decimal = Field(ge=0)
    description: str = Field("", max_length=200)
    prefix: str = Field("", max_length=12, description="codes start with it; default: the name")
    currency: str = Field("", max_length=3)
    valid_days: int | None = Field(None, ge=1, description="a code expires this long after issue")
    expires_at: dt.datetime | None = None
    usage_limit: int = Field(1, ge=1, description="uses per code")


class SeriesOut(Schema):
    id: int
    name: str
    kind: str
    value: Decimal
    description: str
    prefix: str
    currency: str
    valid_days: int | None
    expires_at: dt.datetime | None
    usage_limit: int
    active: bool


class IssueIn(Schema):
    model_config = ConfigDict(extra="forbid")

    emails: list[str] = Field(min_length=1, max_length=MAX_CONTACTS_PER_CALL)
    issued_for: str = Field("api", max_length=40, description="one code per contact per value")


class IssuedOut(Schema):
    codes: dict[str, str] = Field(description="email -> code")


@router.get("", response={200: list[SeriesOut], **ERRORS})
def list_series(request: HttpRequest) -> list[CouponSeries]:
    require(acting_user(request), Perm.VIEW_CONTACTS)
    return list(CouponSeries.objects.all())


@router.post("", response={201: SeriesOut, **ERRORS})
def create_series(request: HttpRequest, payload: SeriesIn) -> Status[CouponSeries]:
    series = coupons.create_series(**payload.model_dump(), acting_user=acting_user(request))
    return Status(201, series)


@router.post("/{name}/codes", response={200: IssuedOut, **ERRORS})
def issue_codes(request: HttpRequest, name: str, payload: IssueIn) -> dict[str, dict[str, str]]:
    """Each contact's code in the series (issued now if missing); an unknown email is a 404."""
    require(acting_user(request), Perm.EDIT_CONTENT)
    wanted = {email.strip().lower() for email in payload.emails}
    ids = dict(Contact.objects.filter(email__in=wanted).values_list("pk", "email"))
    missing = sorted(wanted - set(ids.values()))
    if missing:
        raise NotFound(f"There is no contact with the address {missing[0]}.")
    codes = coupons.issue_codes(name, list(ids), payload.issued_for)
    return {"codes": {ids[contact_id]: code for contact_id, code in codes.items()}}
