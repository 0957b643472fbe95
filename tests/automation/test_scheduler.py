"""The scheduler runs each periodic job when its interval has passed, and survives failures."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.utils import timezone

from rapport.automation.scheduler import PeriodicJob, prune_import_files, run_due


def test_jobs_run_when_due_and_a_failing_job_does_not_stop_the_others():
    calls: list[str] = []

    def failing(now: dt.datetime) -> None:
        raise RuntimeError("boom")

    jobs = [
        PeriodicJob("broken", dt.timedelta(minutes=5), failing),
        PeriodicJob("hourly", dt.timedelta(hours=1), lambda now: calls.append("hourly")),
    ]
    start = timezone.now()

    assert run_due(start, jobs) == ["broken", "hourly"]
    assert run_due(start + dt.timedelta(minutes=10), jobs) == ["broken"]
    assert run_due(start + dt.timedelta(minutes=61), jobs) == ["broken", "hourly"]
    assert calls == ["hourly", "hourly"]


@pytest.mark.django_db
def test_old_import_files_are_pruned_and_recent_ones_kept(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("x")
    new.write_text("y")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))

    prune_import_files(timezone.now())

    assert not old.exists()
    assert new.exists()
