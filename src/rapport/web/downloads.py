"""CSV files the UI hands out: streamed, so that a million rows never sit in memory."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import StreamingHttpResponse
from django.utils import timezone


def csv_download(lines: Iterable[str], name: str, *, dated: bool = False) -> StreamingHttpResponse:
    """CSV ``lines`` (``crm.exporting.csv_lines``: BOM, defused cells) as an attachment
    ``name``.csv, with the time of the download in its name when ``dated``."""
    stamp = f"-{timezone.now():%Y%m%d-%H%M}" if dated else ""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}{stamp}.csv"'
    return response
