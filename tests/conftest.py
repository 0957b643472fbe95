"""Shared fixtures. The database is SQLite or PostgreSQL, as RAPPORT_DATABASE_URL says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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
