"""Benchmark: learning every contact's best send hour, against the least any learner must do.

Run: ``.venv/bin/python bench/send_hours.py [--contacts N]`` (default 20,000; the demo shop under
``var/bench/demo-N``, shared with ``bench/render.py``, built on first use, with its newsletters'
opens and clicks). Measured in the same run:

- **learn**: ``send_times.learn`` as the daily job runs it: human opens and clicks of 180 days
  grouped by contact, UTC hour and age band per block of contacts, moved to local hours,
  smoothed, and the best hours upserted (stale ones deleted);
- **baseline**: one query that only counts the same events per contact and hour, read into
  Python and thrown away: the reading every learner pays, with no weighting or writing.

Prints JSON ``{"contacts", "events", "learned", "learn_s", "baseline_s", "ratio",
"contacts_per_s"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=20_000)
    args = parser.parse_args()
    directory = ROOT / "var" / "bench" / f"demo-{args.contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db.models import Count  # noqa: PLC0415
    from django.db.models.functions import ExtractHour  # noqa: PLC0415

    from rapport.campaigns.send_times import HISTORY_DAYS, learn  # noqa: PLC0415
    from rapport.crm.engagement import human_engagement  # noqa: PLC0415
    from rapport.crm.models import Contact, Event  # noqa: PLC0415
    from rapport.demo.shop import build_demo_shop  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    if Contact.objects.count() < args.contacts:
        print(f"building the demo shop with {args.contacts:,} contacts…", file=sys.stderr)
        build_demo_shop(contacts=args.contacts - Contact.objects.count(), seed=1, force=True)
    # The demo's newsletters are in its past: learn as of its latest event.
    latest = Event.objects.filter(human_engagement()).order_by("-occurred_at").first()
    now = latest.occurred_at + dt.timedelta(minutes=1) if latest else dt.datetime.now(dt.UTC)
    events = Event.objects.filter(
        human_engagement(), occurred_at__gte=now - dt.timedelta(days=HISTORY_DAYS)
    )

    grouped = (
        events.annotate(hour=ExtractHour("occurred_at", tzinfo=dt.UTC))
        .values_list("contact_id", "hour")
        .annotate(n=Count("pk"))
    )
    rows = list(grouped)  # once untimed: both measurements then read a warm cache
    started = time.perf_counter()
    rows = list(grouped.all())
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    report = learn(now)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "contacts": Contact.objects.count(),
                "events": events.count(),
                "learned": report.contacts,
                "learn_s": round(seconds, 3),
                "baseline_s": round(baseline, 3),
                "baseline_rows": len(rows),
                "ratio": round(seconds / baseline, 2) if baseline else None,
                "contacts_per_s": round(Contact.objects.count() / seconds),
            }
        )
    )


if __name__ == "__main__":
    main()
