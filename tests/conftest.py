"""Shared fixtures. The database is SQLite or PostgreSQL, as RAPPORT_DATABASE_URL says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _data_dirs(settings: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own upload folder, tasks run inline, and passwords hash cheaply
    (the production hasher spends ~0.5 s per user, and tests make many users)."""
    settings.IMPORT_DIR = tmp_path / "imports"  # type: ignore[attr-defined]
    settings.TASKS = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": []}
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    yield


@pytest.fixture(autouse=True)
def _english_between_tests() -> Iterator[None]:
    """Each test starts in English, as a new process does. A page request activates the
    user's language in the test's thread and nothing switches it back; code outside a request
    (services, the CLI) would otherwise speak the last page's language."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def compiled_catalogues() -> None:
    """The .mo files (not in git), for tests outside tests/web that read Chinese."""
    from tests.web.messages import compile_catalogues  # noqa: PLC0415 - only when asked for

    compile_catalogues()
