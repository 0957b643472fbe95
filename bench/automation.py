"""Journeys at scale: today's birthdays across every timezone, and due steps per second.

With N contacts (default 1,000,000; each with a birthday and one of 24 timezones), kept in a
SQLite database under var/bench/automation-N:

- ``birthday_s``: a birthday journey's trigger at one instant: find the contacts whose
  birthday it is now in their own timezone (29 February included) and insert their entries;
  ``birthday_again_s`` is the same scan a minute later (every tick does it), which finds them
  entered already. Baseline: one hand-written query for the same month-days and one
  ``executemany`` insert of the same rows, the floor of that work.
- ``steps_per_s``: ``--steps`` due steps (default 100,000) run by the engine: half the entries
  at an email step (a ``Delivery`` queued, consent and the journey cap checked) and half at an
  add-points step, each entry then arriving at a wait. Baseline: the bare writes of one
  step-run row per step with ``executemany``.

    python bench/automation.py [--contacts N] [--steps S]

Prints JSON: {"contacts", "birthday_s", "entered", "steps", "steps_per_s", …, ratios}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZONES = [
    "Pacific/Kiritimati", "Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai",
    "Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "Europe/Moscow", "Europe/Berlin",
    "Europe/London", "UTC", "Atlantic/Azores", "America/Sao_Paulo", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "Pacific/Honolulu", "Pacific/Pago_Pago", "Asia/Kathmandu", "Australia/Adelaide", "",
]  # fmt: skip
NOW = dt.datetime(2027, 3, 1, 3, 0, tzinfo=dt.UTC)  # 28 Feb west of UTC-3, 1 March east


def _database(contacts: int) -> None:
    directory = ROOT / "var" / "bench" / f"automation-{contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")


def _fill(count: int) -> None:
    from rapport.crm.models import Contact  # noqa: PLC0415

    have = Contact.objects.count()
    if have >= count:
        return
    print(f"adding {count - have:,} contacts…", file=sys.stderr)
    rng = random.Random(7)
    start = dt.date(1950, 1, 1)
    batch: list[Contact] = []
    for n in range(have, count):
        birthday = start + dt.timedelta(days=rng.randrange(20_000))
        batch.append(
            Contact(
                email=f"c{n}@example.com",
                birthday=birthday,
                timezone=rng.choice(ZONES),
                country="CN",
                status="subscribed",
            )
        )
        if len(batch) == 10_000:
            Contact.objects.bulk_create(batch)
            batch = []
    Contact.objects.bulk_create(batch)


def _reset() -> None:
    from rapport.automation.models import Journey  # noqa: PLC0415
    from rapport.campaigns.models import Campaign, CampaignKind  # noqa: PLC0415
    from rapport.delivery.models import Delivery  # noqa: PLC0415

    Delivery.objects.filter(campaign__kind=CampaignKind.AUTOMATION).delete()
    Journey.objects.all().delete()
    Campaign.objects.filter(kind=CampaignKind.AUTOMATION).delete()


def _birthday_baseline() -> float:
    """The same month-days in one indexed query, and one executemany of the entries."""
    from django.db import connection, transaction  # noqa: PLC0415

    from rapport.automation.dates import alive_dates, month_days_celebrated  # noqa: PLC0415

    days: set[int] = set()
    for alive in alive_dates(NOW):
        days |= month_days_celebrated(alive)
    marks = ", ".join(["%s"] * len(days))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_entries (contact_id int, occ text)")
        cursor.execute(
            f"SELECT id FROM crm_contact WHERE birth_month_day IN ({marks})",
            sorted(days),
        )
        rows = [(pk, "2027") for (pk,) in cursor.fetchall()]
        cursor.executemany("INSERT INTO bench_entries VALUES (%s, %s)", rows)
        cursor.execute("DROP TABLE bench_entries")
    return time.perf_counter() - started


def _steps_baseline(steps: int) -> float:
    from django.db import connection, transaction  # noqa: PLC0415

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_runs (entry int, seq int, step text, at text)")
        cursor.executemany(
            "INSERT INTO bench_runs VALUES (%s, %s, %s, %s)",
            [(n, 1, "s1", NOW.isoformat()) for n in range(steps)],
        )
        cursor.execute("DROP TABLE bench_runs")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=100_000)
    args = parser.parse_args()
    _database(args.contacts)
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415

    from rapport.automation import triggers  # noqa: PLC0415
    from rapport.automation.engine import plan_of, run_due_steps  # noqa: PLC0415
    from rapport.automation.models import JourneyEntry  # noqa: PLC0415
    from rapport.automation.services import (  # noqa: PLC0415
        disable_journey,
        enable_journey,
        save_journey,
    )
    from rapport.content.models import Workspace  # noqa: PLC0415
    from rapport.crm.models import Contact  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    _fill(args.contacts)
    _reset()

    birthday = save_journey(
        {
            "trigger": {"type": "date", "field": "birthday"},
            "steps": [{"type": "email", "template": "Birthday (English)"}],
        },
        name="Birthdays",
        acting_user=None,
    )
    birthday = enable_journey(birthday.pk, acting_user=None, now=NOW - dt.timedelta(days=1))
    plan = plan_of(birthday)
    started = time.perf_counter()
    entered = triggers.fire(birthday, plan, NOW)
    birthday_s = time.perf_counter() - started
    birthday.refresh_from_db()
    started = time.perf_counter()
    again = triggers.fire(birthday, plan, NOW + dt.timedelta(minutes=1))
    birthday_again_s = time.perf_counter() - started
    birthday_baseline_s = _birthday_baseline()
    disable_journey(birthday.pk, acting_user=None)  # its entries are not the steps measured

    # Due steps: half the entries at an email step, half at a points step.
    journey = save_journey(
        {
            "trigger": {"type": "contact_created"},
            "steps": [
                {"type": "email", "template": "Welcome (English)"},
                {"type": "wait", "days": 1},
                {"type": "points", "points": 10},
                {"type": "wait", "days": 1},
            ],
        },
        name="Steps",
        acting_user=None,
    )
    enable_journey(journey.pk, acting_user=None, now=NOW)
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[: args.steps])
    JourneyEntry.objects.bulk_create(
        [
            JourneyEntry(
                journey=journey,
                contact_id=pk,
                step="s1" if n % 2 else "s3",
                seq=0,
                due_at=NOW,
                entered_at=NOW,
            )
            for n, pk in enumerate(ids)
        ],
        batch_size=10_000,
    )
    started = time.perf_counter()
    moved, steps = run_due_steps(NOW + dt.timedelta(minutes=1))
    steps_s = time.perf_counter() - started
    steps_baseline_s = _steps_baseline(steps)
    print(
        json.dumps(
            {
                "contacts": Contact.objects.count(),
                "birthday_s": round(birthday_s, 3),
                "entered": entered,
                "birthday_again_s": round(birthday_again_s, 3),
                "entered_again": again,
                "birthday_baseline_s": round(birthday_baseline_s, 3),
                "birthday_ratio": round(birthday_s / birthday_baseline_s, 2),
                "steps": steps,
                "entries_moved": moved,
                "steps_s": round(steps_s, 2),
                "steps_per_s": round(steps / steps_s),
                "steps_baseline_per_s": round(steps / steps_baseline_s),
                "steps_ratio": round(steps_baseline_s / steps_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
