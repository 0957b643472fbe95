"""Under load against the real server process (`rapport web`, waitress on loopback): every hit
answered is recorded once, even though the events are written in batches, and the ones still
buffered are written when the server is told to stop."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

from rapport.crm.models import Event, EventType
from tests.factories import make_contact
from tests.helpers import current_database_url
from tests.tracking.builders import (
    BROWSER,
    click_path,
    make_campaign,
    make_delivery,
    make_link,
    open_path,
)
from tools.wait_http import wait_until_answering
from tools.with_postgres import free_port

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 8
ROUNDS = 60


def _client(port: int, paths: list[str]) -> int:
    """One keep-alive connection requesting every path; returns the answers that counted."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    answered = 0
    for path in paths:
        connection.request("GET", path, headers={"User-Agent": BROWSER})
        response = connection.getresponse()
        response.read()
        answered += response.status in (200, 302)
    connection.close()
    return answered


def test_concurrent_clients_every_hit_is_one_event(tmp_path: Path) -> None:
    campaign = make_campaign()
    deliveries = [make_delivery(campaign, make_contact()) for _ in range(CLIENTS)]
    links = [make_link(campaign, f"https://shop.example.com/{n}") for n in range(2)]
    # Each client opens and clicks its own message: an open, then a click of one link, again.
    work = [
        [open_path(d) if i % 2 == 0 else click_path(d, links[i % 4 // 2]) for i in range(ROUNDS)]
        for d in deliveries
    ]
    port = free_port()
    env = dict(
        os.environ,
        RAPPORT_DATA_DIR=str(tmp_path),
        RAPPORT_DATABASE_URL=current_database_url(),
        RAPPORT_LISTEN=f"127.0.0.1:{port}",
        RAPPORT_SECRET_KEY=settings.SECRET_KEY,  # the tokens were signed here
    )
    server = subprocess.Popen([sys.executable, "-m", "rapport.cli", "web"], env=env)
    try:
        wait_until_answering(port, server)
        with ThreadPoolExecutor(CLIENTS) as pool:
            answered = sum(pool.map(lambda paths: _client(port, paths), work))
    finally:
        server.send_signal(signal.SIGTERM)  # how `rapport serve` stops it
        server.wait(60)

    assert server.returncode == 0
    assert answered == CLIENTS * ROUNDS
    hits = Event.objects.filter(type__in=[EventType.OPENED, EventType.CLICKED]).exclude(
        data__has_key="implied"  # opens implied by a click are derived, not hits
    )
    assert hits.count() == answered
    assert hits.filter(type=EventType.CLICKED).count() == answered // 2
    for delivery in deliveries:
        assert hits.filter(data__delivery=delivery.pk).count() == ROUNDS
