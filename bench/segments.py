"""Benchmark: segment counts at a million contacts, each against a hand-written SQL query.

Run: ``.venv/bin/python bench/segments.py [--contacts N] [--database sqlite|postgres]``.
Builds the demo shop once per size (kept under var/bench/, for PostgreSQL as the server's
data folder), then times each segment's count through the rule compiler and the same set
counted by SQL an engineer would write by hand on the same schema (the purchase facts, the
contact's ``has_ordered`` and latest open), in the same run. Prints JSON
``{"contacts", "database", "segments": [{"name", "count", "p50_ms", "sql_p50_ms", "ratio"}],
"max_ratio", "max_p50_ms"}``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import p50_ms  # noqa: E402 - after the path

RUNS = 5


def _segments(now: dt.datetime, vendor: str) -> list[tuple[str, Any, str, list[Any]]]:
    """(name, rule, hand-written SQL, its parameters)."""
    pg = vendor == "postgresql"
    days = lambda n: now - dt.timedelta(days=n)  # noqa: E731 - a tiny local helper
    has_interest = (
        "c.interests @> %s::jsonb"
        if pg
        else "EXISTS (SELECT 1 FROM json_each(c.interests) WHERE value = %s)"
    )
    interest_param = '["photography"]' if pg else "photography"
    soon = [(now.date() + dt.timedelta(days=d)).strftime("%m-%d") for d in range(8)]
    month_day = "to_char(c.birthday, 'MM-DD')" if pg else "strftime('%%m-%%d', c.birthday)"
    facts = "crm_contact c JOIN segments_contactfacts f ON f.contact_id = c.id"
    return [
        (
            "country in CN, SG",
            {"field": "country", "op": "in", "value": ["CN", "SG"]},
            "SELECT COUNT(*) FROM crm_contact c WHERE c.country IN (%s, %s)",
            ["CN", "SG"],
        ),
        (
            "interest photography",
            {"field": "interests", "op": "contains", "value": "photography"},
            f"SELECT COUNT(*) FROM crm_contact c WHERE {has_interest}",
            [interest_param],
        ),
        (
            "b2b subscribers",
            {
                "all": [
                    {"field": "audience", "op": "eq", "value": "b2b"},
                    {"field": "status", "op": "eq", "value": "subscribed"},
                ]
            },
            "SELECT COUNT(*) FROM crm_contact c WHERE c.audience = %s AND c.status = %s",
            ["b2b", "subscribed"],
        ),
        (
            "2+ orders",
            {"field": "orders.count", "op": "gte", "value": 2},
            f"SELECT COUNT(*) FROM {facts} WHERE f.order_count >= %s",
            [2],
        ),
        (
            "bought in last 90 days",
            {"field": "orders.last_at", "op": "within_days", "value": 90},
            f"SELECT COUNT(*) FROM {facts} WHERE f.last_order_at >= %s",
            [days(90)],
        ),
        (
            "2+ orders in a year",
            {"field": "orders.count", "op": "gte", "value": 2, "window": {"within_days": 365}},
            "SELECT COUNT(*) FROM (SELECT o.contact_id FROM crm_order o WHERE o.placed_at >= %s "
            "GROUP BY o.contact_id HAVING COUNT(*) >= %s) t",
            [days(365), 2],
        ),
        (
            "bought a camera in 180 days",
            {
                "field": "orders.category",
                "op": "contains",
                "value": "camera",
                "window": {"within_days": 180},
            },
            "SELECT COUNT(DISTINCT o.contact_id) FROM crm_orderline l "
            "JOIN crm_order o ON o.id = l.order_id JOIN crm_product p ON p.id = l.product_id "
            "WHERE p.category = %s AND o.placed_at >= %s",
            ["camera", days(180)],
        ),
        (
            "opened in 30 days",
            {"field": "email.opened", "op": "within_days", "value": 30},
            "SELECT COUNT(*) FROM crm_contact c WHERE c.last_opened_at >= %s",
            [days(30)],
        ),
        (
            "not opened in 30 days",
            {"not": {"field": "email.opened", "op": "within_days", "value": 30}},
            "SELECT COUNT(*) FROM crm_contact c "
            "WHERE c.last_opened_at IS NULL OR c.last_opened_at < %s",
            [days(30)],
        ),
        (
            "3+ clicks in 90 days",
            {"field": "email.clicked", "op": "gte", "value": 3, "window": {"within_days": 90}},
            "SELECT COUNT(*) FROM (SELECT e.contact_id FROM crm_event e WHERE e.type = %s "
            "AND e.occurred_at >= %s GROUP BY e.contact_id HAVING COUNT(*) >= %s) t",
            ["clicked", days(90), 3],
        ),
        (
            "lifecycle lapsed",
            {"field": "lifecycle", "op": "eq", "value": "lapsed"},
            f"SELECT COUNT(*) FROM {facts} WHERE f.lapses_at < %s",
            [now],
        ),
        (
            "lifecycle potential",
            {"field": "lifecycle", "op": "eq", "value": "potential"},
            "SELECT COUNT(*) FROM crm_contact c WHERE c.status = %s AND NOT c.has_ordered",
            ["subscribed"],
        ),
        (
            "VIP (RFM 4-5)",
            {"all": [{"field": f"rfm.{k}", "op": "gte", "value": 4} for k in "rfm"]},
            f"SELECT COUNT(*) FROM {facts} WHERE f.r_score >= %s AND f.f_score >= %s "
            "AND f.m_score >= %s",
            [4, 4, 4],
        ),
        (
            "birthday in 7 days",
            {"field": "birthday", "op": "within_next_days", "value": 7},
            f"SELECT COUNT(*) FROM crm_contact c WHERE {month_day} IN "
            f"({', '.join(['%s'] * len(soon))})",
            soon,
        ),
        (
            "nested and/or/not",
            {
                "all": [
                    {"field": "orders.count", "op": "gte", "value": 2},
                    {"field": "orders.last_at", "op": "within_days", "value": 90},
                    {
                        "any": [
                            {"field": "interests", "op": "contains", "value": "photography"},
                            {"field": "country", "op": "in", "value": ["CN", "SG"]},
                        ]
                    },
                    {"not": {"field": "email.opened", "op": "within_days", "value": 30}},
                ]
            },
            f"SELECT COUNT(*) FROM {facts} WHERE f.order_count >= %s AND f.last_order_at >= %s "
            f"AND ({has_interest} OR c.country IN (%s, %s)) "
            "AND (c.last_opened_at IS NULL OR c.last_opened_at < %s)",
            [2, days(90), interest_param, "CN", "SG", days(30)],
        ),
    ]


@contextlib.contextmanager
def _database(kind: str, contacts: int) -> Iterator[None]:
    if kind == "postgres":
        from tools.with_postgres import postgres_server  # noqa: PLC0415

        # Kept under var/bench/ like the SQLite one: filling it takes half an hour. Memory
        # settings a production server of this size would have (the defaults are for 1990s
        # machines): 24 GiB here.
        keep = ROOT / "var" / "bench" / f"pg-demo-{contacts}"
        tuned = "-c shared_buffers=2GB -c effective_cache_size=8GB -c random_page_cost=1.1"
        with postgres_server(keep=keep, extra_options=tuned) as url:
            os.environ["RAPPORT_DATABASE_URL"] = url
            yield
        return
    directory = ROOT / "var" / "bench" / f"demo-{contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with _database(args.database, args.contacts):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
        import django  # noqa: PLC0415

        django.setup()
        from django.core.management import call_command  # noqa: PLC0415
        from django.db import connection  # noqa: PLC0415
        from django.utils import timezone  # noqa: PLC0415

        from rapport.crm.models import Contact  # noqa: PLC0415
        from rapport.demo.shop import build_demo_shop  # noqa: PLC0415
        from rapport.segments.facts import rebuild_all_facts, rescore  # noqa: PLC0415
        from rapport.segments.models import ContactFacts  # noqa: PLC0415
        from rapport.segments.queries import count_rules  # noqa: PLC0415

        call_command("migrate", verbosity=0)
        if Contact.objects.count() < args.contacts:
            print(f"building the demo shop with {args.contacts:,} contacts…", file=sys.stderr)
            build_demo_shop(
                contacts=args.contacts - Contact.objects.count(),
                seed=1,
                force=Contact.objects.exists(),
            )
        if not ContactFacts.objects.exists():
            print("computing purchase facts…", file=sys.stderr)
            rebuild_all_facts()
            rescore()
        with connection.cursor() as cursor:
            # What autovacuum does for a live database after a bulk load: statistics, and on
            # PostgreSQL the visibility map that lets index-only scans skip the table.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        now = timezone.now()
        results = []
        for name, rule, sql, params in _segments(now, connection.vendor):

            def by_hand(sql: str = sql, params: list[Any] = params) -> int:
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    return int(cursor.fetchone()[0])

            def ours(rule: Any = rule) -> int:
                return count_rules(rule, now=now).count

            ours_ms, count = p50_ms(ours, RUNS)
            sql_ms, sql_count = p50_ms(by_hand, RUNS)
            if count != sql_count:
                print(
                    f"warning: {name}: compiler counted {count}, SQL {sql_count}", file=sys.stderr
                )
            results.append(
                {
                    "name": name,
                    "count": count,
                    "sql_count": sql_count,
                    "p50_ms": round(ours_ms, 1),
                    "sql_p50_ms": round(sql_ms, 1),
                    "ratio": round(ours_ms / sql_ms, 2) if sql_ms else None,
                }
            )
        print(
            json.dumps(
                {
                    "contacts": Contact.objects.count(),
                    "database": args.database,
                    "segments": results,
                    "max_ratio": max(r["ratio"] or 0 for r in results),
                    "max_p50_ms": max(r["p50_ms"] for r in results),
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
