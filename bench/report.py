"""Benchmark: a campaign report over N events, as a user gets it (``build_report``: absorb
what is new, delivery snapshots, rollups, previous campaigns for the comparison, every table).

Run: ``.venv/bin/python bench/report.py [--events N] [--database postgres|sqlite]``
(default 10,000,000 events on PostgreSQL). Builds once, under ``var/bench/``, a workspace
where one broadcast went to N/10 contacts and got 90 % of the N events (human and machine
opens, human and scanner clicks on 12 links, unsubscribes, complaints, attributed orders),
and ten earlier broadcasts share the rest. The rollups absorb all N events once, timed
(``absorb_s``); that figure is saved beside the database and printed again on later runs
(``absorb_measured``: when). Then the report is timed ``--runs`` times (``p50_ms``), and so
is the baseline in the same run: hand-written SQL counting only the headline numbers
(unique human openers and clickers, opens, clicks) from the raw events (``raw_p50_ms``).

Prints JSON ``{"events", "p50_ms", "database", "raw_p50_ms", "ratio", "absorb_s",
"absorb_events_per_s", "snapshot_s", "recipients", "load"}``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import p50_ms  # noqa: E402 - after the path

LINKS = [f"https://shop.example.com/p/{i}" for i in range(12)]
DEVICES = ["desktop", "mobile", "mobile", "tablet", "unknown"]
CLIENTS = ["Apple Mail", "Gmail", "Outlook", "QQ Mail", "Thunderbird", "Yahoo Mail"]
DOMAINS = [
    "gmail.com",
    "qq.com",
    "163.com",
    "outlook.com",
    "yahoo.com",
    "example.cn",
    "icloud.com",
    "126.com",
    "hotmail.com",
    "foxmail.com",
]
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", ""]
PREVIOUS = 10
START = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)


@contextlib.contextmanager
def _database(kind: str, events: int) -> Iterator[Path]:
    directory = ROOT / "var" / "bench" / f"{'pg-' if kind == 'postgres' else ''}report-{events}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RAPPORT_DATA_DIR", str(directory))
    if kind == "postgres":
        from tools.with_postgres import postgres_server  # noqa: PLC0415

        tuned = "-c shared_buffers=2GB -c effective_cache_size=8GB -c random_page_cost=1.1"
        with postgres_server(keep=directory, extra_options=tuned) as url:
            os.environ["RAPPORT_DATABASE_URL"] = url
            yield directory
        return
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"
    yield directory


def _copy(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY on PostgreSQL (ten times an INSERT's speed), batched executemany on SQLite."""
    from django.db import connection  # noqa: PLC0415

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(_sqlite(v) for v in row))
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        cursor.executemany(sql, batch)
        return count + len(batch)


def _sqlite(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _build(events: int) -> dict[str, Any]:
    """The workspace; returns what the run needs to know about it."""
    from django.db import connection, transaction  # noqa: PLC0415

    from rapport.campaigns.models import Campaign, CampaignState  # noqa: PLC0415
    from rapport.content.models import Template  # noqa: PLC0415
    from rapport.crm.models import Contact  # noqa: PLC0415

    rng = random.Random(1)
    contacts = max(1000, events // 10)
    first_id = (Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    now = dt.datetime.now(dt.UTC)
    print(f"writing {contacts:,} contacts…", file=sys.stderr)
    with transaction.atomic():
        _copy(
            "crm_contact",
            [
                "id",
                "email",
                "given_name",
                "family_name",
                "honorific",
                "search_name",
                "phone",
                "birthday_year_known",
                "locale",
                "timezone",
                "country",
                "region",
                "city",
                "audience",
                "interests",
                "tags",
                "custom",
                "status",
                "consent_source",
                "consent_at",
                "personalisation",
                "source",
                "has_ordered",
                "created_at",
                "updated_at",
            ],
            (
                (
                    first_id + i,
                    f"person{first_id + i}@{DOMAINS[i % len(DOMAINS)]}",
                    "Wei",
                    "Zhang",
                    "",
                    "wei zhang",
                    "",
                    True,
                    "zh-hans",
                    ZONES[i % len(ZONES)],
                    "CN",
                    "",
                    "Shanghai",
                    "b2c",
                    "[]",
                    "[]",
                    "{}",
                    "subscribed",
                    "bench",
                    START - dt.timedelta(days=rng.randint(1, 120)),
                    True,
                    "bench",
                    False,
                    now,
                    now,
                )
                for i in range(contacts)
            ),
        )
    template = Template.objects.order_by("pk").first()
    assert template is not None
    campaigns = []
    for n in range(PREVIOUS + 1):
        started = START - dt.timedelta(days=7 * (PREVIOUS - n))
        campaigns.append(
            Campaign.objects.create(
                name=f"Bench broadcast {n}",
                template=template,
                state=CampaignState.SENT,
                started_at=started,
                finished_at=started + dt.timedelta(hours=1),
            ).pk
        )
    target = campaigns[-1]
    ids = list(range(first_id, first_id + contacts))
    audiences = {c: ids[: min(contacts, 20_000)] for c in campaigns[:-1]} | {target: ids}
    print("writing deliveries…", file=sys.stderr)
    with transaction.atomic():
        _copy(
            "delivery_delivery",
            [
                "campaign_id",
                "contact_id",
                "state",
                "due_at",
                "attempts",
                "was_capped",
                "message_id",
                "response",
                "updated_at",
                "sent_at",
            ],
            (
                (
                    c,
                    pk,
                    "failed" if pk % 97 == 0 else "sent",
                    START,
                    1,
                    pk % 50 == 0,
                    "",
                    "250 ok",
                    now,
                    START,
                )
                for c, audience in audiences.items()
                for pk in audience
            ),
        )
    print(f"writing {events:,} events…", file=sys.stderr)
    per_recipient = 0.9 * events / contacts
    with transaction.atomic():
        written = _copy(
            "crm_event",
            ["contact_id", "type", "name", "occurred_at", "campaign_id", "data"],
            _events(rng, audiences, target, per_recipient, events),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    return {"target": target, "contacts": contacts, "events": written}


def _events(
    rng: random.Random,
    audiences: dict[int, list[int]],
    target: int,
    per_recipient: float,
    total: int,
) -> Iterator[tuple[Any, ...]]:
    written = 0
    others = [c for c in audiences if c != target]
    rest_per = (0.1 * total) / max(sum(len(audiences[c]) for c in others), 1)
    for campaign, audience in audiences.items():
        # 70 % of recipients do something; int() of an exponential loses half an event.
        mean = (per_recipient if campaign == target else rest_per) / 0.7 + 0.5
        for contact in audience:
            k = int(rng.expovariate(1 / mean)) if rng.random() < 0.7 else 0
            for _ in range(k):
                if written >= total:
                    return
                at = START + dt.timedelta(hours=min(rng.expovariate(1 / 14), 24 * 13))
                clicked = rng.random() < 0.25
                bot = rng.random() < 0.12
                data: dict[str, Any] = {
                    "delivery": 0,
                    "device": rng.choice(DEVICES),
                    "client": rng.choice(CLIENTS),
                }
                if clicked:
                    link = rng.randrange(len(LINKS))
                    data |= {"link": link + 1, "url": LINKS[link], "scanner": bot}
                else:
                    data["machine"] = bot
                written += 1
                yield (
                    contact,
                    "clicked" if clicked else "opened",
                    "",
                    at,
                    campaign,
                    json.dumps(data),
                )
            if written < total and rng.random() < 0.004:
                written += 1
                yield (contact, "unsubscribed", "", START + dt.timedelta(hours=5), campaign, "{}")


def _absorb_timed(target: int) -> dict[str, Any]:
    """Empty the rollups, absorb every event and take the target's snapshot, timed."""
    from django.db import connection  # noqa: PLC0415

    from rapport.analytics.absorb import absorb_events  # noqa: PLC0415
    from rapport.analytics.snapshot import refresh_snapshot  # noqa: PLC0415

    _empty_rollups()
    print("absorbing the events into the rollups…", file=sys.stderr)
    started = time.perf_counter()
    absorbed = absorb_events()
    absorb_s = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    refresh_snapshot(target)
    snapshot_s = round(time.perf_counter() - started, 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    return {
        "absorb_s": absorb_s,
        "absorbed": absorbed.events,
        "snapshot_s": snapshot_s,
        "absorb_measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "absorb_load": os.getloadavg(),
    }


def _empty_rollups() -> None:
    from django.apps import apps  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    tables = [m._meta.db_table for m in apps.get_app_config("analytics").get_models()]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")


def _raw_sql(vendor: str) -> str:
    if vendor == "postgresql":
        human = (
            "((type = 'opened' AND NOT COALESCE((data->>'machine')::boolean, false)) "
            "OR (type = 'clicked' AND NOT COALESCE((data->>'scanner')::boolean, false)))"
        )
        clicks = "(type = 'clicked' AND NOT COALESCE((data->>'scanner')::boolean, false))"
    else:
        human = (
            "((type = 'opened' AND NOT COALESCE(json_extract(data, '$.machine'), 0)) "
            "OR (type = 'clicked' AND NOT COALESCE(json_extract(data, '$.scanner'), 0)))"
        )
        clicks = "(type = 'clicked' AND NOT COALESCE(json_extract(data, '$.scanner'), 0))"
    return (
        f"SELECT COUNT(DISTINCT CASE WHEN {human} THEN contact_id END), "
        f"COUNT(DISTINCT CASE WHEN {clicks} THEN contact_id END), "
        f"SUM(CASE WHEN {human} AND type = 'opened' THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {clicks} THEN 1 ELSE 0 END) "
        "FROM crm_event WHERE campaign_id = %s AND type IN ('opened', 'clicked')"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--reabsorb", action="store_true", help="empty the rollups and time absorbing again"
    )
    args = parser.parse_args()
    with _database(args.database, args.events) as directory:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
        os.environ["RAPPORT_TASK_BACKEND"] = "immediate"
        import django  # noqa: PLC0415

        django.setup()
        from django.core.management import call_command  # noqa: PLC0415
        from django.db import connection  # noqa: PLC0415

        from rapport.analytics.reports import build_report  # noqa: PLC0415

        call_command("migrate", verbosity=0)
        saved = directory / "built.json"
        built = json.loads(saved.read_text()) if saved.exists() else _build(args.events)
        if args.reabsorb or "absorb_s" not in built:
            built |= _absorb_timed(built["target"])
            saved.write_text(json.dumps(built))
        target = built["target"]
        report = build_report([target])
        p50, _ = p50_ms(lambda: build_report([target]), args.runs)
        sql = _raw_sql(connection.vendor)

        def raw() -> tuple[Any, ...]:
            with connection.cursor() as cursor:
                cursor.execute(sql, [target])
                return tuple(cursor.fetchone())

        raw_counts = raw()
        raw_p50, _ = p50_ms(raw, max(1, args.runs // 2))
        counts = report.metrics.counts
        ours = (counts.openers, counts.clickers, counts.opens, counts.clicks)
        if ours != tuple(int(v or 0) for v in raw_counts):
            print(f"warning: report {ours} != raw SQL {raw_counts}", file=sys.stderr)
        print(
            json.dumps(
                {
                    "events": built["events"],
                    "p50_ms": round(p50, 1),
                    "database": args.database,
                    "raw_p50_ms": round(raw_p50, 1),
                    "ratio": round(p50 / raw_p50, 3) if raw_p50 else None,
                    "absorb_s": built["absorb_s"],
                    "absorb_events_per_s": round(built["absorbed"] / max(built["absorb_s"], 0.1)),
                    "absorb_measured": built["absorb_measured"],
                    "absorb_load": built["absorb_load"],
                    "snapshot_s": built["snapshot_s"],
                    "recipients": built["contacts"],
                    "openers": counts.openers,
                    "load": os.getloadavg(),
                }
            )
        )


if __name__ == "__main__":
    main()
