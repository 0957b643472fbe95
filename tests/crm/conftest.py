from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv("a.csv", "email,name\\n…", encoding="gb18030")`` writes a file to import."""

    def write(name: str, text: str, *, encoding: str = "utf-8", bom: bool = False) -> Path:
        path = tmp_path / name
        data = text.encode(encoding)
        if bom:
            data = b"\xef\xbb\xbf" + data
        path.write_bytes(data)
        return path

    return write
