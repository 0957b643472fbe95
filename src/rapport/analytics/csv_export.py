"""Report tables as CSV, streamed row by row, as the contacts export writes them
(``rapport.crm.exporting``: a BOM for Excel, formula-like cells defused against CSV injection).
Numbers are written as numbers: rates as fractions with four decimals, money with its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import chain

from rapport.analytics.reports import Cell, Table
from rapport.crm import exporting


def safe_cell(value: Cell) -> str | int | Decimal:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int | Decimal):
        return value
    return exporting.neutralise(str(value))


def csv_lines(table: Table) -> Iterator[str]:
    rows = ([str(safe_cell(cell)) for cell in row] for row in table.rows)
    return exporting.csv_lines(chain([list(table.columns)], rows))
