"""Helpers for tests that start `rapport` in a child process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def current_database_url() -> str:
    """The URL of the database this test run uses (SQLite file or PostgreSQL test database)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def run_cli(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``rapport ARGS`` in a child process on this test's database (``env`` adds variables)."""
    env = dict(
        os.environ,
        RAPPORT_DATA_DIR=str(tmp_path),
        RAPPORT_DATABASE_URL=current_database_url(),
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, "-m", "rapport.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
