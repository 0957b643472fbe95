"""Fixtures of the UI tests: compiled catalogues, and a signed-in client per role."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import PASSWORD, make_user
from tests.web.messages import compile_catalogues


@pytest.fixture(scope="session", autouse=True)
def _catalogues() -> None:
    compile_catalogues()


@pytest.fixture(autouse=True)
def _fast_settings(settings: pytest.FixtureRequest) -> None:
    """A STATIC_ROOT for WhiteNoise, and a fresh cache."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
    cache.clear()  # the dashboard caches its counts


@pytest.fixture
def client_for(db: None) -> Callable[[str], Client]:
    """``client_for("viewer")``: a client signed in as a new user with that role."""

    def make(role: str, **overrides: object) -> Client:
        user = make_user(role, **overrides)
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make
