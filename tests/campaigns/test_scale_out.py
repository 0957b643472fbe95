"""Two workers share one campaign, chunk by chunk, and nobody gets it twice (on PostgreSQL
the claim skips rows another worker has locked; SQLite queues its writers)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from rapport.delivery.models import Delivery, DeliveryState
from tests.campaigns.test_crash import RECIPIENTS, _campaign, _sender
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_share_a_campaign_and_nobody_gets_it_twice(tmp_path: Path) -> None:
    campaign_id = _campaign()
    with smtp_server() as (handler, port):
        handler.delay = 0.01  # long enough for both to be at work at the same time
        url = f"smtp://127.0.0.1:{port}?connections=2"
        # Small chunks, so that both workers get some.
        workers = [_sender(campaign_id, url, tmp_path, RAPPORT_SEND_BATCH="4") for _ in range(2)]
        errors = [worker.communicate(timeout=120)[1] for worker in workers]
        received = Counter(r.recipient for r in handler.received)

    assert [worker.returncode for worker in workers] == [0, 0], errors
    assert len(received) == RECIPIENTS
    assert max(received.values()) == 1, "someone got the campaign twice"
    states = Counter(
        Delivery.objects.filter(campaign_id=campaign_id).values_list("state", flat=True)
    )
    assert states == {DeliveryState.SENT: RECIPIENTS}
    shares = [int(re.search(r"this process: (\d+) sent", e).group(1)) for e in errors]  # type: ignore[union-attr]
    assert sum(shares) == RECIPIENTS
    assert min(shares) > 0, f"one worker did everything: {shares}"
