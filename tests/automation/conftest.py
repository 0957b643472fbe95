"""Journeys under a fake clock: helpers to make, switch on and tick them, and send what they
queue through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from rapport.automation.engine import TickReport, tick
from rapport.automation.models import Journey
from rapport.automation.sending import send_journey_emails
from rapport.automation.services import enable_journey, save_journey
from rapport.content.models import Workspace
from rapport.delivery.pool import PoolLimits, SendPool
from rapport.delivery.transport import SmtpTransport
from tests.smtp_server import ScriptedHandler, smtp_server

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _postal_address(db: None) -> None:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})


@pytest.fixture
def mail() -> Iterator[tuple[ScriptedHandler, SendPool]]:
    """A real SMTP server and a pool of connections to it."""
    with smtp_server() as (handler, port):
        pool = SendPool(lambda: SmtpTransport(f"smtp://127.0.0.1:{port}"), PoolLimits())
        with pool:
            yield handler, pool


def make_journey(
    definition: dict[str, Any], *, name: str = "J", on: dt.datetime | None = None
) -> Journey:
    journey = save_journey(definition, name=name, acting_user=None)
    if on is not None:
        journey = enable_journey(journey.pk, acting_user=None, now=on)
    return journey


def run(now: dt.datetime, pool: SendPool | None = None) -> TickReport:
    """A tick at ``now``, and (with a pool) the sending of what is due then."""
    report = tick(now)
    if pool is not None:
        send_journey_emails(now, pool)
    return report
