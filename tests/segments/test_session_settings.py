"""Rapport's PostgreSQL sessions: the settings segment counts rely on (see settings._database)."""

from __future__ import annotations

import pytest
from django.db import connection

import rapport.settings as project_settings

pytestmark = pytest.mark.django_db


def test_postgresql_sessions_have_room_to_hash_and_no_jit() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
            cursor.execute("SHOW work_mem")
            assert cursor.fetchone()[0] == "64MB"
    else:  # what a PostgreSQL URL would be given
        config = project_settings._database("postgres://rapport@127.0.0.1:5432/rapport")
        assert config["OPTIONS"]["options"] == "-c work_mem=64MB -c jit=off"
