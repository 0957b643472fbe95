"""/api/v1/products: the catalogue that orders and recommendations refer to by SKU."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, model_validator

from rapport.api.common import ERRORS, PageQuery, acting_user, decode_cursor, page_body
from rapport.crm import queries, services
from rapport.crm.models import Product

router = Router(tags=["products"])


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category: str
    price: Decimal
    currency: str
    consumable: bool
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


class ProductQuery(PageQuery):
    category: str = ""
    active: bool | None = None


class _ProductFields(Schema):
    """Fields every product has; a field left out keeps its value (or the default)."""

    # A misspelt field should be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    category: str | None = None
    price: Decimal | None = None
    currency: str | None = Field(None, description="ISO 4217 code, e.g. CNY")
    consumable: bool | None = Field(None, description="may be recommended again to buyers")
    active: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # No product field is nullable: refuse null rather than store False or "".
        if isinstance(data, dict):
            nulls = sorted(name for name, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep it")
        return data


class ProductIn(_ProductFields):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class ProductPatch(_ProductFields):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)


@router.get("", response={200: ProductPage, **ERRORS})
def list_products(request: HttpRequest, query: Query[ProductQuery]) -> dict[str, Any]:
    page = queries.product_page_for(
        acting_user(request),
        category=query.category,
        active=query.active,
        after=decode_cursor(query.cursor),
        limit=query.limit,
    )
    return page_body(page)


@router.get("/{int:product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, product_id: int) -> Product:
    return queries.get_product_for(acting_user(request), product_id)


@router.post("", response={201: ProductOut, **ERRORS})
def create_product(request: HttpRequest, payload: ProductIn) -> Status[Product]:
    product = services.save_product(
        payload.model_dump(exclude_unset=True), acting_user=acting_user(request)
    )
    return Status(201, product)


@router.patch("/{int:product_id}", response={200: ProductOut, **ERRORS})
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> Product:
    return services.save_product(
        payload.model_dump(exclude_unset=True),
        acting_user=acting_user(request),
        product_id=product_id,
    )


@router.delete("/{int:product_id}", response={204: None, **ERRORS})
def delete_product(request: HttpRequest, product_id: int) -> Status[None]:
    """Order lines keep their SKU when the product goes; to hide it, set active to false."""
    services.delete_product(product_id, acting_user=acting_user(request))
    return Status(204, None)
