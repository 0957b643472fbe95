"""The pages recipients see are translated: compile the catalogues once. Tracking hits are
written by the test itself (``recorder.flush``), not by a background thread, so that a test
sees exactly what was recorded when it asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rapport.tracking import hits
from rapport.tracking.recorder import Recorder
from tests.web.messages import compile_catalogues


@pytest.fixture(scope="session", autouse=True)
def _catalogues() -> None:
    compile_catalogues()


@pytest.fixture(autouse=True)
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """A fresh recorder per test, flushed by hand; the link cache starts empty."""
    fresh = Recorder()
    fresh.autostart = False
    monkeypatch.setattr(hits, "recorder", fresh)
    hits._links.clear()
    yield fresh
    hits._links.clear()
