"""The scheduler: wakes every minute and enqueues the periodic jobs that are due.

Jobs are plain functions registered with an interval; each one is cheap and idempotent, so
running the scheduler twice (two machines) only repeats harmless work.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    every: dt.timedelta
    run: Callable[[dt.datetime], None]
    last_run: dt.datetime | None = None


def prune_finished_tasks(now: dt.datetime) -> None:
    """Finished task results older than a week only take space."""
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    DBTaskResult.objects.finished().filter(finished_at__lt=now - dt.timedelta(days=7)).delete()


def prune_import_files(now: dt.datetime) -> None:
    """Uploaded import files and rejects are kept 30 days, then removed."""
    cutoff = (now - dt.timedelta(days=30)).timestamp()
    directory = Path(settings.IMPORT_DIR)
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def rescore_rfm(now: dt.datetime) -> None:
    from rapport.segments.services import rescore_rfm as rescore  # noqa: PLC0415

    rescore(now)


def run_journeys(now: dt.datetime) -> None:
    """Triggers, due steps and staff emails of every enabled journey (``automation.engine``)."""
    from rapport.automation.engine import tick  # noqa: PLC0415

    tick(now)


def dispatch_campaigns(now: dt.datetime) -> None:
    from rapport.campaigns.services import dispatch_due  # noqa: PLC0415

    dispatch_due(now)


def decide_ab_tests(now: dt.datetime) -> None:
    """A/B tests whose time has come send their winner (or the default) to the rest."""
    from rapport.campaigns.experiments import decide_due  # noqa: PLC0415

    decide_due(now)


def learn_send_hours(now: dt.datetime) -> None:
    from rapport.campaigns.send_times import learn  # noqa: PLC0415

    learn(now)


def finish_frequency_tests(now: dt.datetime) -> None:
    from rapport.campaigns.frequency import finish_due  # noqa: PLC0415

    finish_due(now)


def read_bounce_mailbox(now: dt.datetime) -> None:
    """Queued as a task: a slow IMAP server must not hold up the other jobs."""
    if settings.BOUNCE_MAILBOX:
        from rapport.delivery.tasks import read_bounce_mailbox as task  # noqa: PLC0415

        task.enqueue()


def refresh_analytics(now: dt.datetime) -> None:
    """Absorb new opens and clicks into the report rollups; retake live campaigns' counts."""
    from rapport.analytics.services import refresh_analytics as refresh  # noqa: PLC0415

    refresh(now)


JOBS = [
    # Journeys first: the emails their steps queue go out with this minute's dispatch.
    PeriodicJob("run journeys", dt.timedelta(minutes=1), run_journeys),
    # Before dispatching, so that the rest of a decided A/B test goes out in the same minute.
    PeriodicJob("decide A/B tests", dt.timedelta(minutes=1), decide_ab_tests),
    PeriodicJob("dispatch campaigns", dt.timedelta(minutes=1), dispatch_campaigns),
    PeriodicJob("read bounces", dt.timedelta(minutes=5), read_bounce_mailbox),
    PeriodicJob("refresh analytics", dt.timedelta(minutes=1), refresh_analytics),
    PeriodicJob("rescore RFM", dt.timedelta(hours=24), rescore_rfm),
    PeriodicJob("learn send hours", dt.timedelta(hours=24), learn_send_hours),
    PeriodicJob("finish frequency tests", dt.timedelta(hours=1), finish_frequency_tests),
    PeriodicJob("prune finished tasks", dt.timedelta(hours=1), prune_finished_tasks),
    PeriodicJob("prune import files", dt.timedelta(hours=6), prune_import_files),
]


def run_due(now: dt.datetime, jobs: list[PeriodicJob] = JOBS) -> list[str]:
    """Run each job whose interval has passed; returns the names of those run."""
    ran = []
    for job in jobs:
        if job.last_run is None or now - job.last_run >= job.every:
            try:
                job.run(now)
            except Exception:
                log.exception("periodic job %r failed", job.name)
            job.last_run = now
            ran.append(job.name)
    return ran


def serve(tick_seconds: float = 60.0) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("scheduler started (every %ss)", tick_seconds)
    while not stop.is_set():
        close_old_connections()
        run_due(timezone.now())
        stop.wait(tick_seconds)
