"""The rejects file: every refused row with its line, column and reason, plus its own cells.

The original columns come after the three reject columns, so a person can fix the cells in a
spreadsheet and import the same file again (the reject columns are ignored on import).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rapport.crm.importing.columns import REJECT_COLUMNS


class RejectWriter:
    """Writes rejects lazily: no file appears unless a row is refused."""

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        self.path = path
        self.headers = list(headers)
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._csv: csv.Writer | None = None  # type: ignore[name-defined]

    def add(self, line: int, column: str, reason: str, cells: Sequence[str]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # utf-8-sig: Excel opens it with the right encoding; "backslashreplace" keeps
            # undecodable bytes visible (\xff) instead of failing the whole import.
            self._file = self.path.open(
                "w", encoding="utf-8-sig", errors="backslashreplace", newline=""
            )
            self._csv = csv.writer(self._file)
            self._csv.writerow([*REJECT_COLUMNS, *self.headers])
        assert self._csv is not None
        self._csv.writerow([line, column, reason, *cells])
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    @property
    def written_path(self) -> str:
        return str(self.path) if self.count else ""
