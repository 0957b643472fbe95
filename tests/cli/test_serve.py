"""`rapport serve` (what `make run` starts): sets up, serves, catches mail, stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rapport.accounts.models import User
from rapport.crm.models import Contact
from rapport.delivery.models import CaughtMessage
from tests.helpers import current_database_url
from tools.with_postgres import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(url: str, process: subprocess.Popen[str], seconds: float = 90) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"rapport serve exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return int(response.status)
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_serve_sets_up_starts_everything_and_stops_cleanly(tmp_path: Path):
    web, smtp = free_port(), free_port()
    env = dict(
        os.environ,
        RAPPORT_DATA_DIR=str(tmp_path),
        RAPPORT_DATABASE_URL=current_database_url(),
        RAPPORT_LISTEN=f"127.0.0.1:{web}",
        RAPPORT_MAILCATCHER_LISTEN=f"127.0.0.1:{smtp}",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "serve", "--demo-contacts", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{web}/login/", process) == 200
        with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nhello\r\n")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert re.search(r"password \S+", output), output
    # Everything it started has stopped: nothing listens on the web port any more.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{web}/", timeout=2)

    assert CaughtMessage.objects.get().recipients == ["b@example.com"]
    assert Contact.objects.count() >= 60
    assert User.objects.get().role == "owner"
