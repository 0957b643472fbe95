"""Benchmark: sending a personalised campaign, end to end.

Run: ``.venv/bin/python bench/send.py [--messages N] [--workers W]`` (default 100,000 messages,
2 workers, on the demo shop under var/bench/demo-N). The newsletter template with
recommendations goes to N contacts, DKIM-signed (RSA + Ed25519), through the real pipeline
(``CampaignSender``: claim, check, render, MIME, sign, hand over, record):

- ``build_per_s``: messages built and recorded per second with a transport that discards them,
  W worker processes sharing the campaign as workers do;
- ``sink_per_s``: the same into an aiosmtpd server on loopback, in its own process, that
  accepts and drops every message;
- ``raw_per_s``: one pre-built message pushed N times through the same transport to the same
  server by W processes: that server's ceiling here; ``ratio = sink_per_s / raw_per_s``.

``--tracking off`` measures the same without open and click tracking (the workspace switch):
the rewritten links and the pixel make each message longer to encode and sign.

Prints JSON ``{"messages", "workers", "tracking", "build_per_s", "sink_per_s", "raw_per_s",
"ratio"}``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _environment(contacts: int) -> None:
    directory = ROOT / "var" / "bench" / f"demo-{contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")


def _django(contacts: int) -> None:
    _environment(contacts)
    import django  # noqa: PLC0415

    django.setup()


class _Discard:
    """A transport that accepts everything at once: what building costs without a server."""

    def send(self, mail_from: str, recipient: str, data: bytes) -> Any:
        from rapport.delivery.transport import Answer, Outcome  # noqa: PLC0415

        return Answer(Outcome.ACCEPTED, 250, "discarded")

    def close(self) -> None:
        pass


def _pool(smtp_url: str | None, connections: int) -> Any:
    from rapport.delivery.pool import PoolLimits, SendPool  # noqa: PLC0415
    from rapport.delivery.transport import SmtpTransport  # noqa: PLC0415

    if smtp_url is None:
        return SendPool(_Discard, PoolLimits(connections=connections))
    url = smtp_url
    return SendPool(lambda: SmtpTransport(url), PoolLimits(connections=connections))


def _worker(contacts: int, campaign_id: int, smtp_url: str | None, connections: int) -> None:
    _django(contacts)
    from rapport.campaigns.services import get_campaign_for  # noqa: PLC0415
    from rapport.delivery.pipeline import CampaignSender  # noqa: PLC0415

    campaign = get_campaign_for(None, campaign_id)
    with _pool(smtp_url, connections) as pool:
        CampaignSender(campaign, pool).run()


def _raw_worker(smtp_url: str, connections: int, data: bytes, count: int) -> None:
    with _pool(smtp_url, connections) as pool:
        for key in range(count):
            pool.submit(key, "bench@shop.example.com", f"p{key}@example.com", data)
            pool.finished()
        pool.drain()


def _sink(port: int, ready: Any) -> None:
    """An SMTP server that accepts and drops every message (aiosmtpd, its own process)."""
    import asyncio  # noqa: PLC0415
    import logging  # noqa: PLC0415

    from aiosmtpd.controller import Controller  # noqa: PLC0415

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every command otherwise

    class Drop:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    controller = Controller(Drop(), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    ready.set()
    asyncio.run(asyncio.sleep(3600))


def _run_workers(target: Any, args_list: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    processes = [multiprocessing.Process(target=target, args=args) for args in args_list]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return time.perf_counter() - started


def _campaign(name: str, contact_ids: list[int]) -> int:
    from rapport.campaigns.services import create_campaign, start_campaign  # noqa: PLC0415
    from rapport.segments.models import Segment, SegmentKind, SegmentMember  # noqa: PLC0415

    listing, _ = Segment.objects.get_or_create(name=f"bench {name}", kind=SegmentKind.STATIC)
    SegmentMember.objects.filter(segment=listing).delete()
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=listing, contact_id=cid) for cid in contact_ids], batch_size=5000
    )
    campaign = create_campaign(
        name=f"{name} {time.time_ns()}",
        template="Newsletter (English)",
        audience=[listing.pk],
        acting_user=None,
    )
    return start_campaign(campaign.pk, acting_user=None).pk


def _shop(contacts: int, *, tracking: bool) -> None:
    """The demo shop, trained recommendations, a signing domain, tracking as asked, and no
    earlier run's deliveries or suppressions."""
    from django.core.management import call_command  # noqa: PLC0415

    from rapport.content.models import Workspace  # noqa: PLC0415
    from rapport.content.recommend import train  # noqa: PLC0415
    from rapport.crm.models import Contact, ContactStatus  # noqa: PLC0415
    from rapport.delivery.domains import add_domain  # noqa: PLC0415
    from rapport.delivery.models import Delivery, SendingDomain, Suppression  # noqa: PLC0415
    from rapport.demo.shop import build_demo_shop  # noqa: PLC0415
    from rapport.segments.facts import rebuild_all_facts  # noqa: PLC0415
    from rapport.segments.models import ContactFacts  # noqa: PLC0415
    from rapport.tracking.models import TrackingSettings  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    if Contact.objects.count() < contacts:
        print(f"building the demo shop with {contacts:,} contacts…", file=sys.stderr)
        build_demo_shop(contacts=contacts - Contact.objects.count(), seed=1, force=True)
    if not ContactFacts.objects.exists():
        rebuild_all_facts()
    train()
    Workspace.objects.update_or_create(
        pk=1,
        defaults={"postal_address": "1 Bund, Shanghai", "from_email": "news@shop.example.com"},
    )
    if not SendingDomain.objects.filter(domain="shop.example.com").exists():
        add_domain("shop.example.com", acting_user=None)
    switch = TrackingSettings.current()
    switch.enabled = tracking
    switch.save()
    Suppression.objects.all().delete()
    Delivery.objects.all().delete()  # earlier runs' rows would count against the caps
    Contact.objects.update(status=ContactStatus.SUBSCRIBED, cap_messages=100, cap_days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections per worker")
    parser.add_argument("--tracking", choices=["on", "off"], default="on")
    args = parser.parse_args()
    contacts = max(args.messages, 20_000)
    _django(contacts)
    from rapport.crm.models import Contact  # noqa: PLC0415
    from rapport.delivery.models import Delivery  # noqa: PLC0415
    from tools.with_postgres import free_port  # noqa: PLC0415

    _shop(contacts, tracking=args.tracking == "on")
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[: args.messages])
    share = len(ids) // args.workers

    build_campaign = _campaign("build", ids)
    build_seconds = _run_workers(
        _worker, [(contacts, build_campaign, None, args.connections) for _ in range(args.workers)]
    )
    built = Delivery.objects.filter(campaign_id=build_campaign, state="sent").count()

    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(30)
    url = f"smtp://127.0.0.1:{port}"
    Delivery.objects.all().delete()
    sink_campaign = _campaign("sink", ids)
    sink_seconds = _run_workers(
        _worker, [(contacts, sink_campaign, url, args.connections) for _ in range(args.workers)]
    )
    sunk = Delivery.objects.filter(campaign_id=sink_campaign, state="sent").count()
    sample = (ROOT / "bench" / "send.py").read_bytes()[:10_000]  # ~10 KB, like a newsletter
    data = b"From: a@shop.example.com\r\nTo: b@example.com\r\nSubject: x\r\n\r\n" + sample.replace(
        b"\n", b"\r\n"
    )
    raw_seconds = _run_workers(
        _raw_worker, [(url, args.connections, data, share) for _ in range(args.workers)]
    )
    sink.terminate()
    print(
        json.dumps(
            {
                "messages": len(ids),
                "workers": args.workers,
                "connections": args.connections,
                "tracking": args.tracking,
                "built": built,
                "sunk": sunk,
                "build_per_s": round(built / build_seconds),
                "sink_per_s": round(sunk / sink_seconds),
                "raw_per_s": round(share * args.workers / raw_seconds),
                "ratio": round((sunk / sink_seconds) / (share * args.workers / raw_seconds), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
