"""Products import: upsert by SKU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from rapport.crm import fields as f
from rapport.crm.bulk import insert_rows, update_rows
from rapport.crm.importing.base import (
    BatchOutcome,
    ImportOptions,
    ParsedRow,
    Parser,
    RowError,
    limited,
    read_cells,
)
from rapport.crm.importing.columns import PRODUCT_HEADERS, ColumnPlan, plan_columns
from rapport.crm.models import Product

FIELDS = (
    "sku",
    "name",
    "category",
    "price",
    "currency",
    "consumable",
    "active",
    "url",
    "image_url",
)


class ProductImport:
    kind: str = "products"
    required: tuple[str, ...] = ("sku",)
    rejects_on_write = True  # a new SKU without a name is only known to be new when written

    def __init__(self) -> None:
        self.plan_: ColumnPlan | None = None
        self.parsers: dict[str, Parser] = {
            "sku": limited(64),
            "name": limited(200),
            "category": lambda raw: limited(100)(raw).lower(),
            "price": lambda raw: f.parse_decimal(raw, what="a price"),
            "currency": f.normalise_currency,
            "consumable": f.parse_bool,
            "active": f.parse_bool,
            "url": f.parse_web_url,
            "image_url": f.parse_web_url,
        }
        self.written: tuple[str, ...] = ()

    def plan(self, headers: Sequence[str], options: ImportOptions) -> ColumnPlan:
        self.plan_ = plan_columns(
            headers, PRODUCT_HEADERS, explicit=options.columns, required=self.required
        )
        present = set(self.plan_.fields)
        self.written = tuple(n for n in FIELDS if n in present and n != "sku")
        return self.plan_

    def parse(self, line: int, cells: Sequence[str]) -> ParsedRow:
        assert self.plan_ is not None
        values = read_cells(self.plan_, self.parsers, cells)
        if not values.get("sku"):
            raise RowError(self.plan_.column_of("sku"), "is empty; every product needs a SKU")
        return ParsedRow(line=line, key=values["sku"], values=values, cells=cells)

    def write(self, rows: Sequence[ParsedRow]) -> BatchOutcome:
        outcome = BatchOutcome()
        stored = {
            record[1]: record
            for record in Product.objects.filter(sku__in=[r.key for r in rows]).values_list(
                "id", "sku", *self.written
            )
        }
        now = timezone.now()
        inserts: list[list[Any]] = []
        updates: list[list[Any]] = []
        for row in rows:
            record = stored.get(row.key)
            if record is None:
                if "name" not in row.values:
                    outcome.rejects.append((row, "name", "is empty; a new product needs a name"))
                    continue
                new = {
                    "category": "",
                    "price": 0,
                    "currency": "USD",
                    "consumable": False,
                    "active": True,
                    "url": "",
                    "image_url": "",
                    **row.values,
                }
                inserts.append([*(new[n] for n in FIELDS), now, now])
                continue
            current = dict(zip(self.written, record[2:], strict=True))
            merged = {**current, **{k: v for k, v in row.values.items() if k in current}}
            if merged != current:
                updates.append([*(merged[n] for n in self.written), now, record[0]])
        insert_rows(Product, [*FIELDS, "created_at", "updated_at"], inserts)
        update_rows(Product, [*self.written, "updated_at"], updates)
        outcome.created, outcome.updated = len(inserts), len(updates)
        return outcome
