"""Kill the sending process with SIGKILL at random moments: nobody gets a message twice, and
every recipient ends up sent, failed, deferred or unknown, never lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.utils import timezone

from rapport.delivery.models import Delivery, DeliveryState
from rapport.delivery.pipeline import LEASE, recover_abandoned
from tests.factories import started_campaign
from tests.helpers import current_database_url, run_cli
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)
RECIPIENTS = 60


def _campaign() -> int:
    return started_campaign([f"c{n:03d}@example.com" for n in range(RECIPIENTS)], name="Crash")


def _sender(campaign_id: int, url: str, tmp_path: Path, **env_extra: str) -> subprocess.Popen[str]:
    """``rapport campaign send ID --wait`` in its own process, as a worker would run."""
    env = dict(
        os.environ,
        RAPPORT_DATA_DIR=str(tmp_path),
        RAPPORT_DATABASE_URL=current_database_url(),
        RAPPORT_SMTP_URL=url,
        **env_extra,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "campaign", "send", str(campaign_id), "--wait"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("seed", "connections", "backlog"), [(1, 1, 1), (2, 3, 2), (3, 4, 4)])
def test_sigkill_at_a_random_moment_never_sends_twice_and_loses_no_one(
    seed: int, connections: int, backlog: int, tmp_path: Path
) -> None:
    campaign_id = _campaign()
    rng = random.Random(seed)
    with smtp_server() as (handler, port):
        handler.delay = 0.01
        url = f"smtp://127.0.0.1:{port}?connections={connections}&backlog={backlog}"
        for _ in range(2):  # two crashes, then a run to the end
            worker = _sender(campaign_id, url, tmp_path)
            kill_after = rng.randint(3, RECIPIENTS // 3) + len(handler.received)
            deadline = time.monotonic() + 60
            while len(handler.received) < kill_after and worker.poll() is None:
                assert time.monotonic() < deadline, "the sender made no progress"
                time.sleep(0.002)
            time.sleep(rng.random() * 0.02)  # land anywhere in the hand-off of the next one
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            # The lease of the dead worker runs out (ten minutes, here at once).
            recover_abandoned(campaign_id, now=timezone.now() + LEASE)
        final = run_cli(
            "campaign", "send", str(campaign_id), "--wait", tmp_path=tmp_path,
            env={"RAPPORT_SMTP_URL": url},
        )  # fmt: skip
        assert final.returncode == 0, final.stderr
        received = Counter(r.recipient for r in handler.received)

    assert max(received.values()) == 1, "someone got the campaign twice"
    states = dict(Delivery.objects.filter(campaign_id=campaign_id).values_list(
        "contact__email", "state"
    ))  # fmt: skip
    assert len(states) == RECIPIENTS
    responses = set(Delivery.objects.exclude(state="sent").values_list("state", "response"))
    assert set(states.values()) <= {DeliveryState.SENT, DeliveryState.UNKNOWN}, responses
    unknown = {email for email, state in states.items() if state == DeliveryState.UNKNOWN}
    sent = {email for email, state in states.items() if state == DeliveryState.SENT}
    assert sent <= set(received)  # every row marked sent was received
    assert set(received) <= sent | unknown  # whatever arrived is accounted for
    # Per crash, at most: a group marked together (one per connection), the messages waiting
    # for a connection and on the wire, and answers not yet written.
    assert len(unknown) <= 2 * (connections + backlog + 2 * connections)
