"""Benchmark: the send-time suppression check with domain blocks, against the address-only
check it replaced, in the same run on the same data.

Run: ``.venv/bin/python bench/suppression_check.py [--contacts N] [--database sqlite|postgres]``
(default 200,000 contacts, a tenth of them on the list by address, plus 1,000 blocked domains;
kept under var/bench/). Two figures, each against its baseline:

- ``handoff``: what every claimed batch pays right before hand-off (``_still_allowed``: the
  batch's contacts filtered by ``may_receive_marketing``), per batch of RAPPORT_SEND_BATCH;
- ``audience``: the campaign's whole audience counted through the same clause, as
  ``audience_queryset`` does once per campaign.

Prints JSON ``{"contacts", "suppressed", "domains", "database", "batch", "handoff_ms",
"handoff_baseline_ms", "handoff_ratio", "audience_ms", "audience_baseline_ms",
"audience_ratio", "domain_blocks_take_effect"}`` (times are medians; ratio = new / baseline).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import p50_ms  # noqa: E402 - after the path

RUNS = 5
DOMAINS = 1_000


@contextlib.contextmanager
def _database(kind: str, contacts: int) -> Iterator[None]:
    directory = ROOT / "var" / "bench" / f"suppression-{kind}-{contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    if kind == "postgres":
        from tools.with_postgres import postgres_server  # noqa: PLC0415

        with postgres_server(keep=directory / "pg") as url:
            os.environ["RAPPORT_DATABASE_URL"] = url
            yield
        return
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"
    yield


def _fill(contacts: int) -> None:
    """Contacts spread over many domains; every tenth address and DOMAINS domains listed."""
    from rapport.crm.models import Contact  # noqa: PLC0415
    from rapport.delivery.models import Suppression  # noqa: PLC0415

    if Contact.objects.count() == contacts:
        return
    Contact.objects.all().delete()
    Suppression.objects.all().delete()
    batch = 5_000
    for start in range(0, contacts, batch):
        Contact.objects.bulk_create(
            Contact(email=f"p{n}@d{n % 20_000}.example.com", status="subscribed")
            for n in range(start, min(start + batch, contacts))
        )
        Suppression.objects.bulk_create(
            Suppression(email=f"p{n}@d{n % 20_000}.example.com", reason="bounced")
            for n in range(start, min(start + batch, contacts), 10)
        )
    Suppression.objects.bulk_create(
        Suppression(email=f"@d{n * 7}.example.com", reason="blocked") for n in range(DOMAINS)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with _database(args.database, args.contacts):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
        import django  # noqa: PLC0415

        django.setup()
        from django.conf import settings  # noqa: PLC0415
        from django.core.management import call_command  # noqa: PLC0415
        from django.db import connection  # noqa: PLC0415
        from django.db.models import Exists, OuterRef, Q  # noqa: PLC0415

        from rapport.campaigns.audience import may_receive_marketing  # noqa: PLC0415
        from rapport.crm.models import Contact, ContactStatus  # noqa: PLC0415
        from rapport.delivery.models import Suppression  # noqa: PLC0415

        call_command("migrate", verbosity=0)
        _fill(args.contacts)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        # What may_receive_marketing was before domain blocks: the address alone.
        baseline = Q(status=ContactStatus.SUBSCRIBED) & Q(
            ~Exists(Suppression.objects.filter(email=OuterRef("email")))
        )
        ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
        size = settings.SEND_BATCH
        # Twenty batches spread over the table, as workers claim them.
        step = max(1, len(ids) // 20)
        batches = [ids[i : i + size] for i in range(0, len(ids), step)][:20]

        def handoff(clause: Q) -> Callable[[], list[set[int]]]:
            return lambda: [
                set(Contact.objects.filter(pk__in=b).filter(clause).values_list("pk", flat=True))
                for b in batches
            ]

        same = handoff(baseline)() != handoff(may_receive_marketing())()  # domains drop some
        new_handoff = p50_ms(handoff(may_receive_marketing()))[0] / len(batches)
        old_handoff = p50_ms(handoff(baseline))[0] / len(batches)
        new_audience = p50_ms(lambda: Contact.objects.filter(may_receive_marketing()).count())[0]
        old_audience = p50_ms(lambda: Contact.objects.filter(baseline).count())[0]
        print(
            json.dumps(
                {
                    "contacts": args.contacts,
                    "suppressed": Suppression.objects.count(),
                    "domains": DOMAINS,
                    "database": connection.vendor,
                    "batch": size,
                    "handoff_ms": round(new_handoff, 3),
                    "handoff_baseline_ms": round(old_handoff, 3),
                    "handoff_ratio": round(new_handoff / old_handoff, 2),
                    "audience_ms": round(new_audience, 1),
                    "audience_baseline_ms": round(old_audience, 1),
                    "audience_ratio": round(new_audience / old_audience, 2),
                    "domain_blocks_take_effect": same,
                }
            )
        )


if __name__ == "__main__":
    main()
