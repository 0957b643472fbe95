"""/api/v1/orders: purchase history, written by shop integrations, read by anyone on staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime, ConfigDict

from rapport.api.common import ERRORS, PageQuery, acting_user, decode_cursor, page_body
from rapport.crm import queries, services
from rapport.crm.models import Order

router = Router(tags=["orders"])


class OrderLineOut(Schema):
    sku: str
    product_id: int | None
    quantity: int
    unit_price: Decimal


class OrderOut(Schema):
    id: int
    external_id: str
    contact_id: int
    email: str
    placed_at: dt.datetime
    currency: str
    total: Decimal
    coupon_code: str
    source: str
    created_at: dt.datetime
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_email(order: Order) -> str:
        return order.contact.email

    @staticmethod
    def resolve_lines(order: Order) -> list[Any]:
        # The prefetched lines (one query per page); ``.all()`` keeps the prefetch.
        return list(order.lines.all())


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class OrderQuery(PageQuery):
    contact_id: int | None = None
    email: str = Field("", description="the buyer's email address (any case)")


class OrderLineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(1, ge=1)
    unit_price: Decimal = Decimal("0")


class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=64, description="the shop's order id")
    email: str = Field(description="the buyer; a new address becomes a contact without consent")
    placed_at: AwareDatetime
    currency: str = "USD"
    lines: list[OrderLineIn] = Field(min_length=1)
    total: Decimal | None = Field(None, description="defaults to the sum of the lines")
    coupon_code: str = Field("", max_length=64)


@router.get("", response={200: OrderPage, **ERRORS})
def list_orders(request: HttpRequest, query: Query[OrderQuery]) -> dict[str, Any]:
    """Newest recorded first, each with its lines."""
    page = queries.order_page_for(
        acting_user(request),
        contact_id=query.contact_id,
        email=query.email,
        after=decode_cursor(query.cursor),
        limit=query.limit,
    )
    return page_body(page)


@router.get("/{int:order_id}", response={200: OrderOut, **ERRORS})
def get_order(request: HttpRequest, order_id: int) -> Order:
    return queries.get_order_for(acting_user(request), order_id)


@router.post("", response={201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderIn) -> Status[Order]:
    """Records the order and its "ordered" event on the buyer's timeline."""
    user = acting_user(request)
    order = services.create_order(
        external_id=payload.external_id,
        email=payload.email,
        placed_at=payload.placed_at,
        currency=payload.currency,
        lines=[
            services.OrderLineInput(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price)
            for ln in payload.lines
        ],
        total=payload.total,
        coupon_code=payload.coupon_code,
        acting_user=user,
    )
    # Read back, so that the answer is the same as a GET's (times in UTC, lines loaded).
    return Status(201, queries.get_order_for(user, order.pk))


@router.delete("/{int:order_id}", response={204: None, **ERRORS})
def delete_order(request: HttpRequest, order_id: int) -> Status[None]:
    """For an order recorded by mistake; also removes its "ordered" timeline event."""
    services.delete_order(order_id, acting_user=acting_user(request))
    return Status(204, None)
