"""Orders import: one row per order line, rows of an order side by side, upsert by order id.

A buyer not yet in the database is created without marketing consent (``not_subscribed``):
buying is not a subscription. A line whose SKU is not in the catalogue keeps its SKU, so a
later products import links nothing wrongly and loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
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
from rapport.crm.importing.columns import ORDER_HEADERS, ColumnPlan, plan_columns
from rapport.crm.importing.contacts import INSERT_FIELDS, new_contact_row
from rapport.crm.models import Contact, ContactStatus, Event, EventType, Order, OrderLine, Product
from rapport.crm.signals import orders_changed

ORDER_FIELDS = ("contact", "placed_at", "currency", "total", "coupon_code")


def _quantity(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not 0 < int(text) < 1_000_000:
        raise f.FieldError(f"{text!r} is not a quantity (a whole number above 0)")
    return int(text)


def _line_key(lines: Sequence[tuple[str, int, Decimal]]) -> list[tuple[str, int, Decimal]]:
    return sorted((sku, qty, Decimal(price).quantize(Decimal("0.01"))) for sku, qty, price in lines)


class OrderImport:
    kind: str = "orders"
    required: tuple[str, ...] = ("order_id", "email", "placed_at")
    multi_row = True  # consecutive rows with the same order id are one order

    def __init__(self) -> None:
        self.plan_: ColumnPlan | None = None
        self.options = ImportOptions()
        self.parsers: dict[str, Parser] = {
            "order_id": limited(64),
            "email": f.normalise_email,
            "placed_at": f.parse_datetime,
            "currency": f.normalise_currency,
            "total": lambda raw: f.parse_decimal(raw, what="an amount"),
            "sku": limited(64),
            "quantity": _quantity,
            "unit_price": lambda raw: f.parse_decimal(raw, what="a price"),
            "coupon_code": lambda raw: limited(64)(raw).upper(),
        }

    def plan(self, headers: Sequence[str], options: ImportOptions) -> ColumnPlan:
        self.options = options
        self.plan_ = plan_columns(
            headers, ORDER_HEADERS, explicit=options.columns, required=self.required
        )
        return self.plan_

    def parse(self, line: int, cells: Sequence[str]) -> ParsedRow:
        assert self.plan_ is not None
        values = read_cells(self.plan_, self.parsers, cells)
        for name in self.required:
            if name not in values:
                raise RowError(self.plan_.column_of(name), "is empty")
        lines = []
        if "sku" in values:
            lines.append(
                (
                    values.pop("sku"),
                    values.pop("quantity", 1),
                    values.pop("unit_price", Decimal("0.00")),
                )
            )
        values["lines"] = lines
        return ParsedRow(line=line, key=values["order_id"], values=values, cells=cells)

    def combine(self, first: ParsedRow, more: ParsedRow) -> None:
        """Fold a further line of the same order into its first row."""
        first.values["lines"].extend(more.values["lines"])
        for name in ("total", "currency", "coupon_code"):
            if name in more.values:
                first.values.setdefault(name, more.values[name])

    def _contact_ids(self, emails: set[str], now: Any) -> dict[str, int]:
        ids = dict(Contact.objects.filter(email__in=emails).values_list("email", "id"))
        missing = sorted(emails - ids.keys())
        if missing:
            insert_rows(
                Contact,
                INSERT_FIELDS,
                [
                    new_contact_row(e, ContactStatus.NOT_SUBSCRIBED, self.options.source, now)
                    for e in missing
                ],
                ignore_conflicts=True,
            )
            ids.update(Contact.objects.filter(email__in=missing).values_list("email", "id"))
        return ids

    def write(self, rows: Sequence[ParsedRow]) -> BatchOutcome:
        now = timezone.now()
        contacts = self._contact_ids({r.values["email"] for r in rows}, now)
        skus = {sku for r in rows for sku, _, _ in r.values["lines"]}
        products = dict(Product.objects.filter(sku__in=skus).values_list("sku", "id"))
        existing_qs: QuerySet[Order] = Order.objects.filter(external_id__in=[r.key for r in rows])
        stored = {
            rec[1]: rec for rec in existing_qs.values_list("id", "external_id", *ORDER_FIELDS)
        }
        stored_lines: dict[int, list[tuple[str, int, Decimal]]] = {}
        for order_id, sku, qty, price in OrderLine.objects.filter(
            order_id__in=[rec[0] for rec in stored.values()]
        ).values_list("order_id", "sku", "quantity", "unit_price"):
            stored_lines.setdefault(order_id, []).append((sku, qty, price))

        new_orders: list[list[Any]] = []
        previous_owners: set[int] = set()
        changed: list[list[Any]] = []
        lines_for: dict[str, list[tuple[str, int, Decimal]]] = {}
        for row in rows:
            v = row.values
            total = v.get("total")
            if total is None:
                total = sum((q * p for _, q, p in v["lines"]), Decimal("0.00"))
            header = [
                contacts[v["email"]],
                v["placed_at"],
                v.get("currency", "USD"),
                total,
                v.get("coupon_code", ""),
            ]
            record = stored.get(row.key)
            if record is None:
                new_orders.append([row.key, *header, self.options.source, now])
                lines_for[row.key] = v["lines"]
                continue
            same_header = list(record[2:]) == header
            same_lines = _line_key(stored_lines.get(record[0], [])) == _line_key(v["lines"])
            if not (same_header and same_lines):
                changed.append([*header, record[0]])
                previous_owners.add(record[2])
                lines_for[row.key] = v["lines"]

        insert_rows(Order, ("external_id", *ORDER_FIELDS, "source", "created_at"), new_orders)
        update_rows(Order, ORDER_FIELDS, changed)
        OrderLine.objects.filter(order_id__in=[c[-1] for c in changed]).delete()
        order_ids = dict(
            Order.objects.filter(external_id__in=list(lines_for)).values_list("external_id", "id")
        )
        insert_rows(
            OrderLine,
            ("order", "product", "sku", "quantity", "unit_price"),
            [
                (order_ids[key], products.get(sku), sku, qty, price)
                for key, lines in lines_for.items()
                for sku, qty, price in lines
            ],
        )
        insert_rows(
            Event,
            ("contact", "type", "name", "occurred_at", "order", "data"),
            [
                (
                    o[1],
                    EventType.ORDERED,
                    "",
                    o[2],
                    order_ids[o[0]],
                    {"total": str(o[4]), "currency": o[3]},
                )
                for o in new_orders
            ],
        )
        touched = {contacts[r.values["email"]] for r in rows if r.key in lines_for}
        touched |= previous_owners
        if touched:
            orders_changed.send(sender=__name__, contact_ids=sorted(touched))
        return BatchOutcome(created=len(new_orders), updated=len(changed))
