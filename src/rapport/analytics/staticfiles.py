"""Plotly's JavaScript, served as ``vendor/plotly.min.js`` from the installed ``plotly``
package: no CDN and no copy in our tree, so the product works offline and the file is
always the version pinned in constraints.txt. WhiteNoise (and ``collectstatic``) find it
through this finder like any app's static file."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from functools import lru_cache
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

    def check(self, **kwargs: Any) -> builtins.list[Any]:
        return []


_RULES_START = '"X,X div":'
_PAIR = re.compile(
    r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'):("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
)


@lru_cache(maxsize=1)
def plotly_css() -> str:
    """The style rules plotly.js would insert as an inline <style> (which the pages' CSP
    forbids), as a stylesheet. They are read from the installed plotly.min.js, so they always
    match it; a page links them with ``id="plotly.js-style-global"`` and the class
    ``no-inline-styles``, which tells plotly.js not to insert its own."""
    source = plotly_file().read_text(encoding="utf-8")
    start = source.index(_RULES_START)
    end = source.index("}", source.index("};for(", start))
    rules = []
    for key, value in _PAIR.findall(source[start:end]):
        selector = (
            key[1:-1].replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        )
        rules.append(f"{selector}{{{value[1:-1]}}}")
    return "\n".join(rules) + "\n"


@lru_cache(maxsize=1)
def plotly_inline_style_ids() -> tuple[str, ...]:
    """Ids of the <style> elements the bundle inserts at load time unless an element with
    that id is already there (MapLibre's CSS, for map traces we never draw)."""
    source = plotly_file().read_text(encoding="utf-8")
    pattern = (
        r'if\(!document\.getElementById\("([0-9a-f]{64})"\)\)'
        r'\{var \w+=document\.createElement\("style"\)'
    )
    return tuple(dict.fromkeys(re.findall(pattern, source)))
