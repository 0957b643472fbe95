"""Benchmark: import N contacts from CSV with full validation, against a plain bulk insert.

Run: ``.venv/bin/python bench/import_contacts.py [--rows N] [--database sqlite|postgres]``.
Prints JSON ``{"rows", "seconds", "rows_per_s", "baseline_rows_per_s", "ratio", "peak_rss_mb"}``.
The baseline inserts the same rows, as raw strings, with one ``executemany`` per batch and no
validation, normalisation or upsert; both run in fresh databases in child processes, so each
peak RSS is its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITIES = [
    ("Shanghai", "CN", "Asia/Shanghai", "zh-CN"),
    ("北京", "CN", "Asia/Shanghai", "zh-CN"),
    ("London", "GB", "Europe/London", "en-GB"),
    ("New York", "US", "America/New_York", "en-US"),
    ("Singapore", "SG", "Asia/Singapore", "en-SG"),
    ("Berlin", "DE", "Europe/Berlin", "de-DE"),
]
NAMES = [
    ("伟", "张"),
    ("娜", "李"),
    ("芳", "王"),
    ("John", "Smith"),
    ("Mary", "Jones"),
    ("Anna", "Müller"),
    ("Wei Ming", "Tan"),
]
INTERESTS = ["photography", "travel", "hiking", "coffee", "audio", "video", "home"]


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "email",
                "first_name",
                "last_name",
                "phone",
                "birthday",
                "locale",
                "timezone",
                "city",
                "country",
                "type",
                "interests",
                "tags",
            ]
        )
        for i in range(rows):
            given, family = NAMES[i % len(NAMES)]
            city, country, tz, locale = CITIES[rng.randrange(len(CITIES))]
            writer.writerow(
                [
                    f"customer.{i}@mail{i % 97}.example.com",
                    given,
                    family,
                    f"+86 139 {rng.randrange(10**8):08d}",
                    f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    locale,
                    tz,
                    city,
                    country,
                    rng.choice(["b2c", "b2c", "b2b", "nonprofit"]),
                    ", ".join(rng.sample(INTERESTS, 2)),
                    "newsletter",
                ]
            )


def child(mode: str, path: Path) -> None:
    """Run one side in this process and print its figures."""
    import django  # noqa: PLC0415

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    if mode == "ours":
        from rapport.crm.importing.runner import run_import  # noqa: PLC0415

        result = run_import("contacts", path)
        rows = result.created
    else:
        sql = (
            "INSERT INTO crm_contact (email, given_name, family_name, phone, locale, timezone, "
            "city, country, audience, interests, tags, custom, status, search_name, honorific, "
            "birthday_year_known, region, consent_source, personalisation, source, created_at, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}', "
            "'subscribed', '', '', TRUE, '', '', TRUE, '', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"
        )
        rows = 0
        with path.open(newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            batch: list[list[str]] = []
            for cells in reader:
                batch.append([*cells[:4], *cells[5:10], '["' + cells[10] + '"]', '["x"]'])
                if len(batch) == 2000:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.executemany(sql, batch)
                    rows += len(batch)
                    batch = []
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, batch)
            rows += len(batch)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": peak}))


def run_side(mode: str, path: Path, database: str, work: Path) -> dict[str, float]:
    env = dict(os.environ, RAPPORT_DATA_DIR=str(work / mode))
    if database == "sqlite":
        env["RAPPORT_DATABASE_URL"] = f"sqlite:///{work / mode / 'bench.sqlite3'}"
    else:
        env["RAPPORT_DATABASE_URL"] = _fresh_postgres_db(mode)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _fresh_postgres_db(mode: str) -> str:
    base = os.environ.get("RAPPORT_BENCH_POSTGRES_URL")
    if not base:
        sys.exit("--database postgres needs RAPPORT_BENCH_POSTGRES_URL=postgres://user@host:port")
    import psycopg  # noqa: PLC0415

    name = f"rapport_bench_{mode}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp:
        work = Path(tmp)
        path = work / "contacts.csv"
        make_file(path, args.rows)
        baseline = run_side("baseline", path, args.database, work)
        ours = run_side("ours", path, args.database, work)
    rows_per_s = ours["rows"] / ours["seconds"]
    baseline_rate = baseline["rows"] / baseline["seconds"]
    print(
        json.dumps(
            {
                "rows": int(ours["rows"]),
                "seconds": round(ours["seconds"], 2),
                "rows_per_s": round(rows_per_s),
                "baseline_rows_per_s": round(baseline_rate),
                "ratio": round(rows_per_s / baseline_rate, 3),
                "peak_rss_mb": round(ours["peak_rss_mb"], 1),
                "baseline_peak_rss_mb": round(baseline["peak_rss_mb"], 1),
                "database": args.database,
            }
        )
    )


if __name__ == "__main__":
    main()
