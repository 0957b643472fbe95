"""The pages recipients see are translated: compile the catalogues once."""

from __future__ import annotations

import pytest

from tests.web.messages import compile_catalogues


@pytest.fixture(scope="session", autouse=True)
def _catalogues() -> None:
    compile_catalogues()
