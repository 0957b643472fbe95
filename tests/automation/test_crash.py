"""A crash between steps neither repeats nor drops one: the failure is injected between the
effects and the advance, and a real ``rapport tick`` process is killed with SIGKILL mid-run."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from rapport.automation import engine
from rapport.automation.models import EntryState, JourneyEntry, PointsEntry, StepRun
from rapport.crm.models import Contact
from rapport.delivery.models import Delivery
from tests.automation.conftest import make_journey, run
from tests.factories import make_contact
from tests.helpers import current_database_url

T0 = dt.datetime(2027, 2, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
STEPS = {
    "trigger": {"type": "contact_created"},
    "steps": [
        {"type": "points", "points": 10, "reason": "joined"},
        {"type": "email", "template": "Welcome (English)"},
        {"type": "tag", "add": ["welcomed"]},
        {"type": "points", "points": 5, "reason": "welcomed"},
    ],
}


def _contacts(count: int) -> None:
    for n in range(count):
        make_contact(email=f"p{n:03d}@example.com", timezone="Asia/Shanghai")
    Contact.objects.update(created_at=T0)


def _assert_each_step_ran_once(count: int) -> None:
    assert JourneyEntry.objects.count() == count
    assert set(JourneyEntry.objects.values_list("state", flat=True)) == {EntryState.COMPLETED}
    runs = Counter(StepRun.objects.values_list("entry_id", flat=True))
    assert set(runs.values()) == {4}
    points = Counter(PointsEntry.objects.values_list("contact_id", "points"))
    assert len(points) == 2 * count and set(points.values()) == {1}
    assert Delivery.objects.count() == count
    assert all(c == ["welcomed"] for c in Contact.objects.values_list("tags", flat=True))


@pytest.mark.django_db
def test_a_failure_between_the_effects_and_the_advance_rolls_the_batch_back():
    make_journey(STEPS, on=T0 - dt.timedelta(hours=1))
    _contacts(5)

    def crash(batch: object) -> None:
        raise RuntimeError("the machine stops here")

    engine.before_commit = crash
    try:
        with pytest.raises(RuntimeError):
            run(T0 + dt.timedelta(minutes=1))
    finally:
        engine.before_commit = None
    assert not PointsEntry.objects.exists()
    assert not Delivery.objects.exists()
    assert not StepRun.objects.exists()
    assert all(tags == [] for tags in Contact.objects.values_list("tags", flat=True))

    run(T0 + dt.timedelta(minutes=2))
    run(T0 + dt.timedelta(minutes=3))
    _assert_each_step_ran_once(5)


def _ticker(tmp_path: Path, at: dt.datetime) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        RAPPORT_DATA_DIR=str(tmp_path),
        RAPPORT_DATABASE_URL=current_database_url(),
        RAPPORT_JOURNEY_BATCH="3",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "tick", "--at", at.isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_during_a_tick_neither_repeats_nor_drops_a_step(seed, tmp_path):
    from rapport.content.models import Workspace  # noqa: PLC0415

    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    make_journey(STEPS, on=T0 - dt.timedelta(hours=1))
    count = 90
    _contacts(count)
    rng = random.Random(seed)
    at = T0 + dt.timedelta(minutes=1)
    for _ in range(3):  # three crashes wherever they land, then a run to the end
        worker = _ticker(tmp_path, at)
        started = StepRun.objects.count()
        deadline = time.monotonic() + 60
        target = started + rng.randint(1, 40)
        while StepRun.objects.count() < target and worker.poll() is None:
            assert time.monotonic() < deadline, "the tick made no progress"
            time.sleep(0.001)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    final = _ticker(tmp_path, at)
    assert final.wait(timeout=120) == 0, final.stderr.read() if final.stderr else ""
    _assert_each_step_ran_once(count)
