"""The import loop shared by every kind: read, parse, de-duplicate, write in batches.

Each batch is one transaction, so a crash loses at most the batch in flight, and re-running
the import (an idempotent upsert) completes it. Memory stays flat: rows are streamed, keys
already met live in a scratch file (``SeenKeys``), and rejects go straight to disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.crm.importing.base import (
    BatchOutcome,
    ImportKindSpec,
    ImportOptions,
    ParsedRow,
    RowError,
)
from rapport.crm.importing.columns import ColumnPlan
from rapport.crm.importing.contacts import ContactImport
from rapport.crm.importing.orders import OrderImport
from rapport.crm.importing.products import ProductImport
from rapport.crm.importing.reader import open_csv
from rapport.crm.importing.rejects import RejectWriter
from rapport.crm.importing.seen import SeenKeys
from rapport.errors import InvalidInput

SPECS: dict[str, Callable[[], ImportKindSpec]] = {
    "contacts": ContactImport,
    "products": ProductImport,
    "orders": OrderImport,
}


@dataclass
class ImportResult:
    """What an import did; ``as_json`` gives the keys the CLI's ``--json`` promises."""

    kind: str
    rows: int = 0
    records: int = 0  # distinct records written (an order of three lines is one)
    created: int = 0
    updated: int = 0
    rejected: int = 0
    rejects_path: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "rejects_path": self.rejects_path,
            "unchanged": self.records - self.created - self.updated,
            "ignored_columns": self.ignored_columns,
            "encoding": self.encoding,
        }


Progress = Callable[[int, int, ImportResult], None]


def default_rejects_path(source: Path) -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    return Path(settings.IMPORT_DIR) / f"{source.stem}-{stamp}-rejects.csv"


def run_import(
    kind: str,
    path: Path,
    options: ImportOptions | None = None,
    *,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> ImportResult:
    """Import the CSV at ``path``; raises ``InvalidInput`` when the file cannot be read at all.

    ``progress(bytes_done, bytes_total, result_so_far)`` is called after every batch.
    """
    if kind not in SPECS:
        raise InvalidInput(f"Cannot import {kind!r}; choose contacts, products or orders.")
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file.")
    options = options or ImportOptions()
    spec = SPECS[kind]()
    size = batch_size or settings.IMPORT_BATCH_SIZE
    result = ImportResult(kind=kind)
    with path.open("rb") as stream:
        csv_stream = open_csv(path, stream)
        result.encoding = csv_stream.encoding
        try:
            plan = spec.plan(csv_stream.headers, options)
        except ValueError as error:  # FieldError in an option such as the default status
            raise InvalidInput(f"The import options are not valid: {error}") from None
        result.ignored_columns = list(plan.ignored)
        rejects = RejectWriter(rejects_path or default_rejects_path(path), csv_stream.headers)
        seen = SeenKeys()
        loop = _Loop(spec, rejects, seen, result)
        loop.use_headers(plan)
        try:
            pending: list[ParsedRow] = []
            for line, cells in csv_stream.rows:
                result.rows += 1
                ready = loop.take(line, cells)
                if ready is not None:
                    pending.append(ready)
                if len(pending) >= size:
                    loop.flush(pending)
                    pending = []
                    if progress:
                        progress(csv_stream.counter.done, csv_stream.total_bytes, result)
            last = loop.finish()
            if last is not None:
                pending.append(last)
            loop.flush(pending)
        finally:
            rejects.close()
            seen.close()
        if progress:
            progress(csv_stream.total_bytes, csv_stream.total_bytes, result)
    result.rejected = rejects.count
    result.rejects_path = rejects.written_path
    return result


class _Loop:
    """Per-row parsing, order-line grouping and batch writes for one import."""

    def __init__(
        self, spec: ImportKindSpec, rejects: RejectWriter, seen: SeenKeys, result: ImportResult
    ) -> None:
        self.spec = spec
        self.rejects = rejects
        self.seen = seen
        self.result = result
        self.multi_row = bool(getattr(spec, "multi_row", False))
        self.group: list[tuple[int, Sequence[str], ParsedRow | RowError]] = []
        self.key_header = spec.required[0]

    def use_headers(self, plan: ColumnPlan) -> None:
        self.key_header = plan.column_of(self.spec.required[0])

    def take(self, line: int, cells: Sequence[str]) -> ParsedRow | None:
        """Parse a row; returns a record ready to write, or None (rejected, or grouping)."""
        try:
            parsed: ParsedRow | RowError = self.spec.parse(line, cells)
        except RowError as error:
            parsed = error
        if not self.multi_row:
            if isinstance(parsed, RowError):
                self.rejects.add(line, parsed.column, parsed.reason, cells)
                return None
            return parsed
        key = parsed.key if isinstance(parsed, ParsedRow) else None
        group_key = self._group_key()
        if self.group and (key is None or key == group_key):
            self.group.append((line, cells, parsed))
            return None
        ready = self.finish()
        self.group = [(line, cells, parsed)]
        return ready

    def _group_key(self) -> str | None:
        for _, _, item in self.group:
            if isinstance(item, ParsedRow):
                return item.key
        return None

    def finish(self) -> ParsedRow | None:
        """Close the group of order lines: one record, or every line rejected together."""
        group, self.group = self.group, []
        if not group:
            return None
        failed = [item for _, _, item in group if isinstance(item, RowError)]
        if failed:
            first = failed[0]
            for line, cells, item in group:
                if isinstance(item, RowError):
                    self.rejects.add(line, item.column, item.reason, cells)
                else:
                    self.rejects.add(line, first.column,
                                     f"another line of this order was refused: {first.reason}",
                                     cells)
            return None
        head = group[0][2]
        assert isinstance(head, ParsedRow)
        head.origin = [(line, cells) for line, cells, _ in group]
        for _, _, more in group[1:]:
            assert isinstance(more, ParsedRow)
            self.spec.combine(head, more)  # type: ignore[attr-defined]
        return head

    def _reject(self, row: ParsedRow, column: str, reason: str) -> None:
        for line, cells in row.origin or [(row.line, row.cells)]:
            self.rejects.add(line, column, reason, cells)

    def flush(self, rows: list[ParsedRow]) -> None:
        if not rows:
            return
        firsts = self.seen.first_lines([r.key for r in rows])
        unique: list[ParsedRow] = []
        in_batch: dict[str, int] = {}
        for row in rows:
            first_line = firsts.get(row.key) or in_batch.get(row.key)
            if first_line is not None:
                self._reject(row, self.key_header,
                             f"{row.key!r} already appeared at line {first_line}; "
                             "the first one was imported")
                continue
            in_batch[row.key] = row.line
            unique.append(row)
        self.seen.add(list(in_batch.items()))
        self.result.records += len(unique)
        with transaction.atomic():
            outcome: BatchOutcome = self.spec.write(unique)
        self.result.records -= len(outcome.rejects)
        for row, column, reason in outcome.rejects:
            self._reject(row, column, reason)
        self.result.created += outcome.created
        self.result.updated += outcome.updated
