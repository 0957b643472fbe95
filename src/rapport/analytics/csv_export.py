"""Report tables as CSV, streamed row by row.

Cells that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) get a leading apostrophe: a link or segment name like ``=HYPERLINK(...)`` must not
run when someone opens the export (CSV injection, OWASP). Numbers are written as numbers:
rates as fractions with four decimals, money with its own.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal

from rapport.analytics.reports import Cell, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cell(value: Cell) -> str | int | Decimal:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(table: Table) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(table.columns)  # a BOM: Excel then reads UTF-8 (中文)
    for row in table.rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
