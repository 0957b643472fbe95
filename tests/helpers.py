"""Helpers for tests that start `rapport` in a child process against the test database."""

from __future__ import annotations

from django.conf import settings


def current_database_url() -> str:
    """The URL of the database this test run uses (SQLite file or PostgreSQL test database)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
