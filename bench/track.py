"""Benchmark: the open and click endpoints under many concurrent clients on loopback.

Run: ``.venv/bin/python bench/track.py [--seconds 30] [--clients 64]``. Starts the real server
(``rapport web``: waitress, with the lean tracking path in front of Django) on a SQLite
database under var/bench/track/, then for ``--seconds`` each:

- the baseline: the same server answering the static 1x1 GIF ``/t/pixel.gif`` (no token, no
  recording);
- the tracked run: signed open-pixel and click URLs of many deliveries (an open and two links
  each), every one checked, queued and written to the database in batches.

Clients are keep-alive HTTP/1.1 connections driven by one asyncio process; a request counts as
a hit when answered 200 or 302. After the run the server is stopped as ``rapport serve`` stops
it (SIGTERM), which writes what is still buffered, and the events are counted (opens implied
by a click are derived rows, not hits, and are left out). Prints JSON ``{"hits", "events",
"hits_per_s", "p50_ms", "p99_ms", "baseline_hits_per_s", "ratio"}``; ``events`` must equal
``hits``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DIRECTORY = ROOT / "var" / "bench" / "track"
AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


def _django() -> None:
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(DIRECTORY)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{DIRECTORY / 'rapport.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django  # noqa: PLC0415

    django.setup()


def _paths(deliveries: int) -> list[str]:
    """Tracked URLs of one campaign: an open and two clicks per delivery."""
    from django.core.management import call_command  # noqa: PLC0415

    from rapport.campaigns.models import Campaign  # noqa: PLC0415
    from rapport.content.services import TemplateContent, create_template  # noqa: PLC0415
    from rapport.crm.models import Contact, Event  # noqa: PLC0415
    from rapport.tracking.models import Link  # noqa: PLC0415
    from rapport.tracking.tokens import CLICK, OPEN, HitToken, make_token  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    Event.objects.all().delete()
    missing = deliveries - Contact.objects.count()
    if missing > 0:
        start = Contact.objects.count()
        Contact.objects.bulk_create(
            [Contact(email=f"reader{start + n}@example.com") for n in range(missing)],
            batch_size=2000,
        )
    template = create_template(
        name=f"bench {time.time_ns()}",
        content=TemplateContent(subject="x", html="<p>x</p>"),
        acting_user=None,
    )
    campaign = Campaign.objects.create(name=f"bench {time.time_ns()}", template=template)
    links = [
        Link.objects.create(
            campaign=campaign, url=f"https://shop.example.com/{n}", digest=f"{n:064d}"
        )
        for n in range(10)
    ]
    sent = int(time.time()) - 3600  # read an hour after sending: people, not prefetches
    contacts = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[:deliveries])
    paths = []
    for delivery, contact in enumerate(contacts, start=1):
        opened = HitToken(delivery, contact, campaign.pk, 0, sent)
        paths.append(f"/t/{OPEN}/{make_token(OPEN, opened)}")
        for link in (links[delivery % 10], links[(delivery + 3) % 10]):
            clicked = HitToken(delivery, contact, campaign.pk, link.pk, sent)
            paths.append(f"/t/{CLICK}/{make_token(CLICK, clicked)}")
    return paths


async def _connection(
    port: int, paths: Any, deadline: float, latencies: list[float], counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            path = next(paths)
            started = time.perf_counter()
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {AGENT}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(head[9:12])
            counts[0 if status in (200, 302) else 1] += 1
    finally:
        writer.close()


async def _load(port: int, paths: list[str], seconds: float, clients: int) -> dict[str, Any]:
    cycle = itertools.cycle(paths)
    latencies: list[float] = []
    counts = [0, 0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(port, cycle, deadline, latencies, counts) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "hits": counts[0],
        "errors": counts[1],
        "per_s": counts[0] / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--deliveries", type=int, default=5000)
    args = parser.parse_args()
    _django()
    from django.conf import settings  # noqa: PLC0415

    from rapport.crm.models import Event, EventType  # noqa: PLC0415
    from tools.wait_http import wait_until_answering  # noqa: PLC0415
    from tools.with_postgres import free_port  # noqa: PLC0415

    paths = _paths(args.deliveries)
    port = free_port()
    env = dict(
        os.environ,
        RAPPORT_LISTEN=f"127.0.0.1:{port}",
        RAPPORT_SECRET_KEY=settings.SECRET_KEY,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "web"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_answering(port, server)
        baseline = asyncio.run(_load(port, ["/t/pixel.gif"], args.seconds, args.clients))
        tracked = asyncio.run(_load(port, paths, args.seconds, args.clients))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(120)
    events = (
        Event.objects.filter(type__in=[EventType.OPENED, EventType.CLICKED])
        .exclude(data__has_key="implied")
        .count()
    )
    print(
        json.dumps(
            {
                "hits": tracked["hits"],
                "events": events,
                "hits_per_s": round(tracked["per_s"]),
                "p50_ms": round(tracked["p50_ms"], 2),
                "p99_ms": round(tracked["p99_ms"], 2),
                "baseline_hits_per_s": round(baseline["per_s"]),
                "ratio": round(tracked["per_s"] / baseline["per_s"], 2),
                "baseline_p99_ms": round(baseline["p99_ms"], 2),
                "errors": tracked["errors"] + baseline["errors"],
                "clients": args.clients,
                "seconds": args.seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
