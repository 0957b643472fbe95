"""Contacts export to CSV: streamed by keyset pages, safe to open in a spreadsheet.

A cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a
leading apostrophe, the OWASP advice against CSV injection.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from rapport.crm.models import Contact

EXPORT_COLUMNS = (
    "email",
    "given_name",
    "family_name",
    "honorific",
    "phone",
    "birthday",
    "locale",
    "timezone",
    "country",
    "region",
    "city",
    "audience",
    "company",
    "interests",
    "tags",
    "status",
    "consent_source",
    "consent_at",
    "tracking",
    "created_at",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralise(", ".join(str(v) for v in value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return neutralise(str(value))


def contact_rows(queryset: QuerySet[Contact], *, batch: int = 5000) -> Iterator[list[str]]:
    """Header, then one row per contact; custom fields as ``custom.<key>`` columns."""
    from rapport.crm.custom_fields import load_definitions  # noqa: PLC0415

    custom_keys = sorted(load_definitions())
    yield [*EXPORT_COLUMNS, *(f"custom.{k}" for k in custom_keys)]
    names = [c if c != "company" else "company__name" for c in EXPORT_COLUMNS]
    for record in rows_by_id(queryset, "custom", *names, batch=batch):
        custom = record[1] or {}
        yield [*(_cell(v) for v in record[2:]), *(_cell(custom.get(k)) for k in custom_keys)]


def rows_by_id(queryset: QuerySet[Any], *fields: Any, batch: int = 5000) -> Iterator[Any]:
    """``values_list("pk", *fields)`` of every row in id order, one query per ``batch``:
    memory stays flat on millions of rows and no cursor is held open between batches."""
    last_id = 0
    while True:
        chunk = list(
            queryset.filter(pk__gt=last_id).order_by("pk").values_list("pk", *fields)[:batch]
        )
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1][0]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _row_text(writer: Any, row: list[str]) -> str:
    return str(writer.writerow(row))


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text line by line, for a streaming HTTP response."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield _row_text(writer, row)


def write_csv(rows: Iterable[list[str]], path: Path) -> int:
    """Write a header and rows to ``path`` (UTF-8 with BOM, for Excel); returns how many rows
    follow the header."""
    count = -1
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def export_contacts(queryset: QuerySet[Contact], path: Path) -> int:
    """Write the contacts to ``path`` (UTF-8 with BOM, for Excel); returns how many."""
    return write_csv(contact_rows(queryset), path)
