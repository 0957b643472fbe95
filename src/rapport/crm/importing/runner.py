"""The import loop shared by every kind: read, parse, de-duplicate, write in batches.

Reading and checking rows (CPU) and writing them (the database) overlap: for a large file the
parsing runs in a forked child process and hands over batches through a bounded queue, so
both cores work and memory stays flat. Each batch is one transaction: a crash loses at most
the batch in flight, and running the import again (an idempotent upsert) completes it. Keys
already met live in a scratch file (``SeenKeys``) and rejects go straight to disk.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
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
from rapport.crm.importing.reader import CsvStream, open_csv
from rapport.crm.importing.rejects import RejectWriter
from rapport.crm.importing.seen import SeenKeys
from rapport.errors import InvalidInput

SPECS: dict[str, Callable[[], ImportKindSpec]] = {
    "contacts": ContactImport,
    "products": ProductImport,
    "orders": OrderImport,
}
# Below this size a file is parsed in the calling process: forking costs more than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


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
Reject = tuple[int, str, str, Sequence[str]]  # line, column, reason, the row's cells


@dataclass
class Batch:
    """Checked rows ready to write, the rows refused so far, and how far the file is read."""

    rows: list[ParsedRow]
    rejects: list[Reject]
    rows_read: int
    bytes_read: int


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
    parallel: bool | None = None,
    on_written: Callable[[BatchOutcome], None] | None = None,
) -> ImportResult:
    """Import the CSV at ``path``; raises ``InvalidInput`` when the file cannot be read at all.

    ``progress(bytes_done, bytes_total, result_so_far)`` is called after every batch, and
    ``on_written(outcome)`` inside each batch's transaction (e.g. to add contacts to a list).
    ``parallel`` forces parsing in a child process on (True) or off (False); by default it
    is on for large files when this process has no other threads (forking a threaded
    process is unsafe).
    """
    if kind not in SPECS:
        raise InvalidInput(f"Cannot import {kind!r}; choose contacts, products or orders.")
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file.")
    spec = SPECS[kind]()
    result = ImportResult(kind=kind)
    with path.open("rb") as stream:
        csv_stream = open_csv(path, stream)
        result.encoding = csv_stream.encoding
        try:
            plan = spec.plan(csv_stream.headers, options or ImportOptions())
        except ValueError as error:  # FieldError in an option such as the default status
            raise InvalidInput(f"The import options are not valid: {error}") from None
        result.ignored_columns = list(plan.ignored)
        size = batch_size or settings.IMPORT_BATCH_SIZE

        def batches() -> Iterator[Batch]:
            return _checked_batches(spec, plan, csv_stream, size)

        if parallel is None:
            parallel = (
                csv_stream.total_bytes >= PARALLEL_MIN_BYTES and threading.active_count() == 1
            )
        rejects = RejectWriter(rejects_path or default_rejects_path(path), csv_stream.headers)
        try:
            for batch in _in_child_process(batches) if parallel else batches():
                for reject in batch.rejects:
                    rejects.add(*reject)
                _write(spec, batch.rows, rejects, result, on_written)
                result.rows = batch.rows_read
                if progress:
                    progress(batch.bytes_read, csv_stream.total_bytes, result)
        finally:
            rejects.close()
    result.rejected = rejects.count
    result.rejects_path = rejects.written_path
    return result


def _write(
    spec: ImportKindSpec,
    rows: list[ParsedRow],
    rejects: RejectWriter,
    result: ImportResult,
    on_written: Callable[[BatchOutcome], None] | None,
) -> None:
    if not rows:
        return
    with transaction.atomic():
        outcome = spec.write(rows)
        if on_written is not None:
            on_written(outcome)
    for row, column, reason in outcome.rejects:
        for line, cells in row.origin or [(row.line, row.cells)]:
            rejects.add(line, column, reason, cells)
    result.records += len(rows) - len(outcome.rejects)
    result.created += outcome.created
    result.updated += outcome.updated


def _checked_batches(
    spec: ImportKindSpec, plan: ColumnPlan, csv_stream: CsvStream, size: int
) -> Iterator[Batch]:
    """Parse rows, group order lines, drop repeated keys; yield batches. Touches no database."""
    checker = _RowChecker(spec, plan)
    seen = SeenKeys()
    rows_read = 0
    pending: list[ParsedRow] = []
    try:
        for line, cells in csv_stream.rows:
            rows_read += 1
            ready = checker.take(line, cells)
            if ready is not None:
                pending.append(ready)
            if len(pending) >= size:
                yield checker.batch(pending, seen, rows_read, csv_stream.counter.done)
                pending = []
        last = checker.finish()
        if last is not None:
            pending.append(last)
        yield checker.batch(pending, seen, rows_read, csv_stream.counter.done)
    finally:
        seen.close()


class _RowChecker:
    """Per-row parsing, order-line grouping and de-duplication for one import."""

    def __init__(self, spec: ImportKindSpec, plan: ColumnPlan) -> None:
        self.spec = spec
        self.key_header = plan.column_of(spec.required[0])
        self.multi_row = bool(getattr(spec, "multi_row", False))
        self.keeps_cells = bool(getattr(spec, "rejects_on_write", False))
        self.group: list[tuple[int, Sequence[str], ParsedRow | RowError]] = []
        self.rejects: list[Reject] = []

    def take(self, line: int, cells: Sequence[str]) -> ParsedRow | None:
        """Parse a row; returns a record ready to write, or None (rejected, or grouping)."""
        try:
            parsed: ParsedRow | RowError = self.spec.parse(line, cells)
        except RowError as error:
            parsed = error
        if not self.multi_row:
            if isinstance(parsed, RowError):
                self.rejects.append((line, parsed.column, parsed.reason, cells))
                return None
            return parsed
        key = parsed.key if isinstance(parsed, ParsedRow) else None
        if self.group and (key is None or key == self._group_key()):
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
                    self.rejects.append((line, item.column, item.reason, cells))
                else:
                    self.rejects.append(
                        (
                            line,
                            first.column,
                            f"another line of this order was refused: {first.reason}",
                            cells,
                        )
                    )
            return None
        head = group[0][2]
        assert isinstance(head, ParsedRow)
        head.origin = [(line, cells) for line, cells, _ in group]
        for _, _, more in group[1:]:
            assert isinstance(more, ParsedRow)
            self.spec.combine(head, more)  # type: ignore[attr-defined]
        return head

    def batch(
        self, rows: list[ParsedRow], seen: SeenKeys, rows_read: int, bytes_read: int
    ) -> Batch:
        """Drop rows whose key came earlier in the file (rejected, naming the first line)."""
        firsts = seen.first_lines([r.key for r in rows]) if rows else {}
        unique: list[ParsedRow] = []
        in_batch: dict[str, int] = {}
        for row in rows:
            first_line = firsts.get(row.key) or in_batch.get(row.key)
            if first_line is not None:
                reason = (
                    f"{row.key!r} already appeared at line {first_line}; the first one was imported"
                )
                for line, cells in row.origin or [(row.line, row.cells)]:
                    self.rejects.append((line, self.key_header, reason, cells))
                continue
            in_batch[row.key] = row.line
            unique.append(row)
        seen.add(list(in_batch.items()))
        if not self.keeps_cells:  # less to copy to the writer process
            for row in unique:
                row.cells = ()
        rejects, self.rejects = self.rejects, []
        return Batch(unique, rejects, rows_read, bytes_read)


def _in_child_process(make_batches: Callable[[], Iterator[Batch]]) -> Iterator[Batch]:
    """Run ``make_batches`` in a forked child and yield what it produces.

    The queue holds at most four batches, so a fast reader waits for the writer instead of
    filling memory. The child touches no database connection (``_checked_batches`` does not)
    and ends with ``os._exit``, so the parent's connections are never used or closed by it.
    """
    context = multiprocessing.get_context("fork")
    channel: multiprocessing.Queue[tuple[str, Any]] = context.Queue(maxsize=4)

    def produce() -> None:
        try:
            for batch in make_batches():
                channel.put(("batch", batch))
            channel.put(("done", None))
        except InvalidInput as error:
            channel.put(("invalid", error.message))
        except BaseException as error:
            channel.put(("crash", f"{type(error).__name__}: {error}"))

    child = context.Process(target=produce, daemon=True, name="rapport-import-reader")
    child.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=1.0)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError("the import's reader process died") from None
                continue
            if kind == "batch":
                yield payload
            elif kind == "done":
                return
            elif kind == "invalid":
                raise InvalidInput(payload)
            else:
                raise RuntimeError(f"the import's reader process failed: {payload}")
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        channel.close()
