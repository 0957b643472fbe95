"""Build the demo shop: the catalogue, then customers in batches with orders and events.

Batches of 5,000 customers are generated (in a second process when there is more than one
batch, so generating and writing overlap on two cores) and written with one
``executemany`` (SQLite) or ``COPY`` (PostgreSQL) per table, each batch in its own
transaction, so memory stays flat at any size: 1,000,000 contacts (about 3 million orders
and 13 million events) took under six minutes on SQLite on a shared two-core machine.
The ids of inserted rows are read back with one query per table and batch
(``id > the largest id before``), matched by email or order id, which is safe on
PostgreSQL even with other writers.
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime as dt
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from rapport.crm.engagement import refresh_engagement
from rapport.crm.models import Company, Contact, Event, Order, OrderLine, Product
from rapport.demo import catalogue, places
from rapport.demo.child import setup_django
from rapport.demo.generate import (
    COMPANY_COLUMN,
    CONTACT_COLUMNS,
    EVENT_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    Batch,
    BatchSpec,
    generate_batch,
)
from rapport.demo.loading import indexes_dropped, sqlite_bulk_settings
from rapport.errors import Conflict, InvalidInput
from rapport.segments.facts import rebuild_all_facts, rescore

BATCH_SIZE = 5_000
REBUILD_INDEXES_FROM = 50_000  # contacts; below this the index is cheap to keep
LOOKAHEAD = 2  # generated batches waiting to be written: bounds memory
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class DemoSummary:
    contacts: int
    products: int
    orders: int
    order_lines: int
    events: int
    seconds: float
    seed: int

    def describe(self) -> str:
        return (
            f"Demo shop built (seed {self.seed}): {self.contacts:,} contacts, "
            f"{self.products:,} products, {self.orders:,} orders ({self.order_lines:,} lines), "
            f"{self.events:,} timeline events in {self.seconds:.1f} s."
        )


def build_demo_shop(
    *,
    contacts: int = 2000,
    seed: int = 1,
    progress: Progress | None = None,
    force: bool = False,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Add a demo shop; refuses a database that has contacts unless ``force``.

    The same seed on an empty database gives the same customers, orders and events for the
    same ``now`` (rounded down to the hour). With ``force``, contact numbers (and so emails
    and order ids) continue after the largest contact id, so they cannot collide.
    """
    started = time.perf_counter()
    if contacts < 1:
        raise InvalidInput("The demo needs at least one contact.", field="contacts")
    existing = Contact.objects.count()
    if existing and not force:
        raise Conflict(
            f"The database already has {existing:,} contacts; the demo shop is meant for an "
            "empty database. Add it anyway with --force."
        )
    report = progress or (lambda percent, step: None)
    report(0, "catalogue")
    product_ids = _ensure_products()
    company_ids = _ensure_companies()
    base = _max_id(Contact)
    anchor = int((now or timezone.now()).timestamp()) // 3600 * 3600
    suffix = "" if connection.vendor == "sqlite" else "+00:00"
    specs = [
        BatchSpec(seed, index, base + start + 1, min(BATCH_SIZE, contacts - start), anchor, suffix)
        for index, start in enumerate(range(0, contacts, BATCH_SIZE))
    ]
    writer = _Writer(product_ids, company_ids)
    large = contacts >= REBUILD_INDEXES_FROM and not connection.in_atomic_block
    with (
        sqlite_bulk_settings(),
        indexes_dropped(Event, ("type", "occurred_at", "contact"), enabled=large),
    ):
        for done, batch in enumerate(_generated(specs), start=1):
            with transaction.atomic():
                writer.write(batch)
            report(done * 99 // len(specs), f"{writer.contacts:,} of {contacts:,} contacts")
        report(99, "indexing events")
    # Orders went in as raw rows, past the order signals: compute the purchase facts that
    # segments read, once, for everyone.
    report(99, "purchase facts")
    rebuild_all_facts()
    refresh_engagement()  # events went in as raw rows too
    rescore(now)
    report(100, "done")
    return DemoSummary(
        contacts=writer.contacts,
        products=len(catalogue.ITEMS),
        orders=writer.orders,
        order_lines=writer.lines,
        events=writer.events,
        seconds=time.perf_counter() - started,
        seed=seed,
    )


def _generated(specs: Sequence[BatchSpec]) -> Iterator[Batch]:
    """Batches in order; from a child process when there are several, a few ahead.

    The child is spawned, not forked (this process holds a database connection), so a
    script calling this needs the usual ``if __name__ == "__main__":`` guard.
    """
    if len(specs) == 1:
        yield generate_batch(specs[0])
        return
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=setup_django
    ) as pool:
        pending: collections.deque[concurrent.futures.Future[Batch]] = collections.deque()
        upcoming = iter(specs)
        for spec in upcoming:
            pending.append(pool.submit(generate_batch, spec))
            if len(pending) > LOOKAHEAD:
                break
        while pending:
            batch = pending.popleft().result()
            spec_next = next(upcoming, None)
            if spec_next is not None:
                pending.append(pool.submit(generate_batch, spec_next))
            yield batch


def _ensure_products() -> list[int]:
    """Product ids by catalogue position; products already there (same SKU) are reused."""
    Product.objects.bulk_create(
        [
            Product(
                sku=item.sku,
                name=item.name,
                category=item.category,
                price=Decimal(item.cny_cents) / 100,
                currency="CNY",
                consumable=item.consumable,
                url=f"https://shop.example.com/p/{item.sku.lower()}",
            )
            for item in catalogue.ITEMS
        ],
        ignore_conflicts=True,
    )
    ids = dict(
        Product.objects.filter(sku__in=[i.sku for i in catalogue.ITEMS]).values_list("sku", "id")
    )
    return [ids[item.sku] for item in catalogue.ITEMS]


def _ensure_companies() -> list[int]:
    Company.objects.bulk_create(
        [Company(name=org.name, domain=org.domain) for org in places.ORGANISATIONS],
        ignore_conflicts=True,
    )
    ids = dict(
        Company.objects.filter(name__in=[o.name for o in places.ORGANISATIONS]).values_list(
            "name", "id"
        )
    )
    return [ids[org.name] for org in places.ORGANISATIONS]


class _Writer:
    """Writes batches, swapping batch positions for database ids, and counts rows."""

    def __init__(self, product_ids: list[int], company_ids: list[int]) -> None:
        self.product_ids = product_ids
        self.company_ids = company_ids
        self.contacts = self.orders = self.lines = self.events = 0
        self.copy = connection.vendor == "postgresql"
        self.last_ids = {Contact: _max_id(Contact), Order: _max_id(Order)}

    def write(self, batch: Batch) -> None:
        companies, c = self.company_ids, COMPANY_COLUMN
        contact_rows = [
            row if row[c] is None else (*row[:c], companies[row[c]], *row[c + 1 :])
            for row in batch.contacts
        ]
        by_email = self._insert(Contact, CONTACT_COLUMNS, contact_rows, "email")
        contact_ids = [by_email[row[0]] for row in batch.contacts]
        order_rows = [(contact_ids[row[0]], *row[1:]) for row in batch.orders]
        by_external = self._insert(Order, ORDER_COLUMNS, order_rows, "external_id")
        order_ids = [by_external[row[1]] for row in batch.orders]
        products = self.product_ids
        line_rows = [
            (order_ids[o], products[p], sku, quantity, price)
            for o, p, sku, quantity, price in batch.lines
        ]
        event_rows = [
            (
                contact_ids[contact],
                kind,
                name,
                when,
                campaign,
                None if order is None else order_ids[order],
                data,
            )
            for contact, kind, name, when, campaign, order, data in batch.events
        ]
        self._put(OrderLine, LINE_COLUMNS, line_rows)
        self._put(Event, EVENT_COLUMNS, event_rows)
        self.contacts += len(contact_rows)
        self.orders += len(batch.orders)
        self.lines += len(line_rows)
        self.events += len(event_rows)

    def _insert(
        self,
        model: type[models.Model],
        names: Sequence[str],
        rows: list[tuple[Any, ...]],
        key: str,
    ) -> dict[str, int]:
        """Insert, then read back ``{key: id}`` for the rows added since the last batch."""
        self._put(model, names, rows)
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(key)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}, id FROM {table} WHERE id > %s",  # noqa: S608 - metadata
                [self.last_ids[model]],
            )
            ids: dict[str, int] = dict(cursor.fetchall())
        if ids:
            self.last_ids[model] = max(ids.values())
        return ids

    def _put(
        self, model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Rows already in database form (the generator made times, JSON and money text).

        PostgreSQL gets COPY: ``executemany`` there costs a round trip per row, and was
        ten times slower. SQLite runs in this process, where ``executemany`` is the fast way.
        """
        if not rows:
            return
        quote = connection.ops.quote_name
        columns = []
        for name in names:
            field = model._meta.get_field(name)
            assert isinstance(field, models.Field) and field.column
            columns.append(quote(field.column))
        target = f"{quote(model._meta.db_table)} ({', '.join(columns)})"
        with connection.cursor() as cursor:
            if self.copy:
                with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {target} VALUES ({marks})", rows)  # noqa: S608


def _max_id(model: type[models.Model]) -> int:
    top: int | None = model._default_manager.aggregate(top=Max("id"))["top"]
    return top or 0
