"""Keys already met in this file (emails, SKUs, order ids), kept on disk.

A duplicate in the file is rejected with the line of its first occurrence. The keys live in a
scratch SQLite file, not in a Python set, so memory stays flat however large the file is.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path


class SeenKeys:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="rapport-import-")
        self._db = sqlite3.connect(Path(self._dir.name) / "seen.sqlite3")
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;"
            "CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID;"
        )

    def first_lines(self, keys: Sequence[str]) -> dict[str, int]:
        """Lines where those of ``keys`` that were met before first appeared."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                self._db.execute(
                    f"SELECT key, line FROM seen WHERE key IN ({marks})",  # noqa: S608 - placeholders only
                    chunk,
                ).fetchall()
            )
        return found

    def add(self, items: Sequence[tuple[str, int]]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", items)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()
