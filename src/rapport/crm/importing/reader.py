"""Stream a CSV file of any size as rows of text, whatever encoding a spreadsheet wrote.

UTF-8 (with or without BOM), GB18030/GBK (what Chinese Excel and WPS write) and UTF-16 (Excel's
"Unicode text") are read. Each line is decoded on its own, so a file that mixes UTF-8 and GBK
lines (two exports pasted together) still reads; a line that is neither keeps its bytes as
surrogates, and the row is rejected with a clear reason instead of being silently garbled.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rapport.errors import InvalidInput

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SNIFF_BYTES = 64 * 1024
csv.field_size_limit(1024 * 1024)


def decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "surrogateescape")


def has_undecodable(text: str) -> bool:
    """True when a cell kept bytes that were neither UTF-8 nor GB18030 (see ``decode_line``)."""
    return any("\udc80" <= char <= "\udcff" for char in text)


@dataclass
class ByteCounter:
    done: int = 0


def _binary_lines(stream: BinaryIO, counter: ByteCounter) -> Iterator[str]:
    for raw in stream:
        counter.done += len(raw)
        yield decode_line(raw)


def _utf16_lines(stream: BinaryIO, counter: ByteCounter) -> Iterator[str]:
    text = io.TextIOWrapper(stream, encoding="utf-16", newline="")
    for line in text:
        counter.done = stream.tell() if stream.seekable() else counter.done + len(line) * 2
        yield line


def _refuse_binary(head: bytes, name: str) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise InvalidInput(
            f"{name} is a zip or Excel (.xlsx) file, not CSV. In your spreadsheet choose "
            "Save As > CSV UTF-8, then import that file."
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput(f"{name} is an old Excel (.xls) file; save it as CSV UTF-8 first.")
    if b"\x00" in head:
        raise InvalidInput(f"{name} is not a text file (it holds NUL bytes); save it as CSV.")


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class CsvStream:
    """Rows of a CSV file with the file line each started on and the bytes read so far."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    counter: ByteCounter
    total_bytes: int
    delimiter: str
    encoding: str


def open_csv(path: Path, stream: BinaryIO) -> CsvStream:
    """Open ``stream`` (the file at ``path``) as CSV; raises ``InvalidInput`` if it cannot be."""
    name = path.name
    total = path.stat().st_size if path.exists() else 0
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    if not head.strip():
        raise InvalidInput(f"{name} is empty.")
    counter = ByteCounter()
    if head.startswith(_UTF16_BOMS):
        lines: Iterator[str] = _utf16_lines(stream, counter)
        encoding = "utf-16"
    else:
        _refuse_binary(head, name)
        if head.startswith(codecs.BOM_UTF8):
            stream.seek(len(codecs.BOM_UTF8))
            counter.done = len(codecs.BOM_UTF8)
            encoding = "utf-8-sig"
        else:
            encoding = "utf-8" if _is_utf8(head) else "gb18030"
        lines = _binary_lines(stream, counter)
    first_line: str | None = next(lines, "")
    while first_line is not None and first_line.strip() == "":  # blank lines before the header
        first_line = next(lines, None)
    if first_line is None:
        raise InvalidInput(f"{name} has no header row.")
    delimiter = _sniff_delimiter(first_line)
    headers = next(csv.reader([first_line], delimiter=delimiter))
    headers = [h.strip().lstrip("\ufeff") for h in headers]
    if has_undecodable("".join(headers)):
        raise InvalidInput(f"The header row of {name} is not UTF-8 or GB18030 text.")
    reader = csv.reader(lines, delimiter=delimiter, strict=False)

    def rows() -> Iterator[tuple[int, list[str]]]:
        line_number = 1
        try:
            for cells in reader:
                start = line_number + 1
                line_number = reader.line_num + 1
                if cells and any(cell.strip() for cell in cells):
                    yield start, cells
        except csv.Error as error:
            raise InvalidInput(
                f"{name} cannot be read past line {line_number + 1}: {error}. "
                "Check for an unclosed quote."
            ) from None

    return CsvStream(headers, rows(), counter, total, delimiter, encoding)


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        return error.start >= len(head) - 3
    return True
