"""Benchmark: recommendation hit rate on held-back orders, against a popularity baseline.

Run: ``.venv/bin/python bench/recommend.py [--contacts N]`` (default 20,000).
Works on a copy of the demo shop under var/bench/recommend-N (copied from var/bench/demo-N
when that exists, else built), so other benchmarks' databases stay untouched. Each repeat
buyer's (2+ orders) last order is held back; the model is trained on everything else through
``train(exclude_order_ids=...)`` and loaded as a send would load it. A hit is any of the four
recommended products being in the held-back order; the baseline recommends the four most
popular products the contact may be shown (the same exclusions: nothing owned unless
consumable, nothing inactive). Prints JSON ``{"contacts", "evaluated", "hit_rate",
"popularity_hit_rate", "ratio", "us_per_recommendation", ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N = 4
TIMING_PASSES = 3


def _database(contacts: int) -> None:
    """Point Django at this benchmark's own SQLite copy of the demo shop."""
    directory = ROOT / "var" / "bench" / f"recommend-{contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "rapport.sqlite3"
    source = ROOT / "var" / "bench" / f"demo-{contacts}" / "rapport.sqlite3"
    if not target.exists() and source.exists():
        print(f"copying {source.relative_to(ROOT)}…", file=sys.stderr)
        with (
            sqlite3.connect(f"file:{source}?mode=ro", uri=True) as original,
            sqlite3.connect(target) as copy,
        ):
            original.backup(copy)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{target}"


def _best_of(passes: int, action: Callable[[], object]) -> float:
    """Seconds of the fastest pass: the machine may be shared, and slow passes are noise."""
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:  # noqa: PLR0915 - one measurement, top to bottom
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=20_000)
    args = parser.parse_args()
    _database(args.contacts)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415

    from rapport.content.recommend import Recommender, train  # noqa: PLC0415
    from rapport.crm.models import Contact, Order, OrderLine  # noqa: PLC0415
    from rapport.demo.shop import build_demo_shop  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    if Contact.objects.count() < args.contacts:
        print(f"building the demo shop with {args.contacts:,} contacts…", file=sys.stderr)
        build_demo_shop(
            contacts=args.contacts - Contact.objects.count(),
            seed=1,
            force=Contact.objects.exists(),
        )

    # Each repeat buyer's last order (latest time, then highest id) is held back.
    last: dict[int, int] = {}
    counts: dict[int, int] = {}
    for contact, order in (
        Order.objects.order_by("contact_id", "placed_at", "id")
        .values_list("contact_id", "id")
        .iterator(chunk_size=10_000)
    ):
        last[contact] = order
        counts[contact] = counts.get(contact, 0) + 1
    hidden = {contact: last[contact] for contact, count in counts.items() if count >= 2}
    hidden_ids = frozenset(hidden.values())

    started = time.perf_counter()
    model = train(exclude_order_ids=hidden_ids)
    train_seconds = time.perf_counter() - started
    recommender = Recommender.load()

    # What each evaluated contact bought before, as purchases_for orders it (oldest first,
    # each product once at its latest purchase), and what the held-back order holds.
    history: dict[int, dict[int, None]] = {contact: {} for contact in hidden}
    held: dict[int, set[int]] = {contact: set() for contact in hidden}
    for contact, order, product in (
        OrderLine.objects.filter(order__contact_id__in=list(hidden), product__isnull=False)
        .order_by("order__contact_id", "order__placed_at", "order_id", "id")
        .values_list("order__contact_id", "order_id", "product_id")
        .iterator(chunk_size=10_000)
    ):
        if product is None:
            continue
        if order == hidden[contact]:
            held[contact].add(product)
        else:
            bought = history[contact]
            bought.pop(product, None)
            bought[product] = None
    interests = dict(Contact.objects.filter(id__in=list(hidden)).values_list("id", "interests"))
    cases = [
        (list(history[contact]), list(interests.get(contact) or []), held[contact])
        for contact in hidden
        if history[contact] and held[contact]
    ]

    hits = popular_hits = 0
    consumable = recommender.consumable
    for purchased, wanted, target in cases:
        shown = recommender.recommend(purchased, wanted, N)
        hits += any(product.id in target for product in shown)
        owned = set(purchased) - consumable
        baseline = [pk for pk in recommender.popular if pk not in owned][:N]
        popular_hits += any(pk in target for pk in baseline)

    def recommend_all(group: list[tuple[list[int], list[str], set[int]]]) -> None:
        for purchased, wanted, _ in group:
            recommender.recommend(purchased, wanted, N)

    three = [case for case in cases if len(case[0]) == 3]
    per_call = _best_of(TIMING_PASSES, lambda: recommend_all(cases)) / len(cases)
    per_call_3 = _best_of(TIMING_PASSES, lambda: recommend_all(three)) / max(1, len(three))
    hit_rate = hits / len(cases)
    popularity_hit_rate = popular_hits / len(cases)
    print(
        json.dumps(
            {
                "contacts": Contact.objects.count(),
                "evaluated": len(cases),
                "hit_rate": round(hit_rate, 4),
                "popularity_hit_rate": round(popularity_hit_rate, 4),
                "ratio": round(hit_rate / popularity_hit_rate, 2) if popular_hits else None,
                "us_per_recommendation": round(per_call * 1e6, 2),
                "us_per_recommendation_3_purchases": round(per_call_3 * 1e6, 2),
                "train_seconds": round(train_seconds, 2),
                "model_orders": model.orders,
                "model_json_bytes": len(json.dumps(model.data, separators=(",", ":"))),
            }
        )
    )


if __name__ == "__main__":
    main()
