"""Plotly's JavaScript, served as ``vendor/plotly.min.js`` from the installed ``plotly``
package: no CDN and no copy in our tree, so the product works offline and the file is
always the version pinned in constraints.txt. WhiteNoise (and ``collectstatic``) find it
through this finder like any app's static file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_PATH = "vendor/plotly.min.js"


def plotly_file() -> Path:
    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


class PlotlyFinder(BaseFinder):
    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...
    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...
    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        if path != PLOTLY_PATH:
            return [] if find_all else None
        found = str(plotly_file())
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        storage = FileSystemStorage(location=str(plotly_file().parent))
        storage.prefix = "vendor"  # type: ignore[attr-defined]
        yield plotly_file().name, storage

    def check(self, **kwargs: Any) -> list[Any]:
        return []
