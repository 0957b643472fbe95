"""What each kind of import (contacts, products, orders) provides to the shared runner."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rapport.crm.fields import FieldError
from rapport.crm.importing.columns import ColumnPlan

_UNDECODABLE = re.compile("[\udc80-\udcff]")


class RowError(Exception):
    """A row that cannot be imported: the column to blame and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class ParsedRow:
    line: int
    key: str  # what the row is upserted by: email, SKU or order id
    values: dict[str, Any]
    cells: Sequence[str] = ()
    # The file lines behind a record that spans several rows (an order's lines).
    origin: list[tuple[int, Sequence[str]]] = field(default_factory=list)


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    rejects: list[tuple[ParsedRow, str, str]] = field(default_factory=list)
    # Ids of every contact the batch wrote or found unchanged (only when a list wants them).
    contact_ids: list[int] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportOptions:
    """Choices that come with a file: from ``--map FILE`` or the import form."""

    columns: Mapping[str, str | None] = field(default_factory=dict)
    date_format: str | None = None
    status: str = "subscribed"  # status of new contacts that the file gives none for
    consent_source: str = ""
    source: str = "import"
    list_name: str = ""  # a static list the imported contacts join (mapping key "list")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], *, source: str) -> ImportOptions:
        columns = mapping.get("columns", {})
        if not isinstance(columns, dict):
            raise FieldError('"columns" in the mapping must be an object {"header": "field"}')
        return cls(
            columns=columns,
            date_format=mapping.get("date_format") or None,
            status=str(mapping.get("status") or "subscribed"),
            consent_source=str(mapping.get("consent_source") or ""),
            source=source,
            list_name=str(mapping.get("list") or ""),
        )


Parser = Callable[[str], Any]


class ImportKindSpec(Protocol):
    kind: str
    required: tuple[str, ...]

    def plan(self, headers: Sequence[str], options: ImportOptions) -> ColumnPlan: ...

    def parse(self, line: int, cells: Sequence[str]) -> ParsedRow: ...

    def write(self, rows: Sequence[ParsedRow]) -> BatchOutcome: ...


def read_cells(
    plan: ColumnPlan, parsers: Mapping[str, Parser], cells: Sequence[str]
) -> dict[str, Any]:
    """Run each mapped, non-blank cell through its field's parser.

    Blank cells are left out, so an update never blanks a stored value. A row with more
    cells than headers (usually an unquoted comma) is refused rather than shifted.
    """
    headers = plan.headers
    if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
        raise RowError(
            "",
            f"the row has {len(cells)} cells but the header has {len(headers)}; "
            "a value with a comma needs quotes",
        )
    if _UNDECODABLE.search("".join(cells)):
        for header, cell in zip(headers, cells, strict=False):
            if _UNDECODABLE.search(cell):
                raise RowError(header, "holds bytes that are neither UTF-8 nor GB18030 text")
    values: dict[str, Any] = {}
    count = len(cells)
    for index, field_name in plan.mapped:
        if index >= count:
            continue
        raw = cells[index]
        if not raw or raw.isspace():
            continue
        try:
            values[field_name] = parsers[field_name](raw)
        except FieldError as error:
            raise RowError(headers[index], str(error)) from None
    return values


def memoised(parse: Parser, max_entries: int = 20_000) -> Parser:
    """Cache a parser's results: cities, countries, locales repeat on most rows of a file.

    Errors are not cached (they raise), and the cache stops growing at ``max_entries`` so
    a column of unique values costs one dict look-up, not memory.
    """
    cache: dict[str, Any] = {}

    def parse_cached(raw: str) -> Any:
        try:
            return cache[raw]
        except KeyError:
            value = parse(raw)
            if len(cache) < max_entries:
                cache[raw] = value
            return value

    return parse_cached


def limited(max_length: int) -> Parser:
    """A text parser that strips and refuses values longer than ``max_length``."""

    def parse(raw: str) -> str:
        text = raw.strip()
        if len(text) > max_length:
            raise FieldError(f"is longer than {max_length} characters")
        return text

    return parse
