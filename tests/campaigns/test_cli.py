"""``rapport campaign create|send --wait|status --json`` in a child process, against a real
SMTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport.content.models import Workspace
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact
from tests.helpers import run_cli
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_send_and_report_a_campaign(tmp_path: Path) -> None:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name="Friends", kind=SegmentKind.STATIC)
    for n in range(3):
        SegmentMember.objects.create(
            segment=listing, contact=make_contact(email=f"f{n}@example.com", status="subscribed")
        )
    make_contact(email="stranger@example.com", status="subscribed")

    created = run_cli(
        "campaign", "create", "--audience", "Friends", "--template", "Welcome (English)",
        "--name", "Hello friends", tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    campaign_id = created.stdout.strip()
    assert campaign_id.isdigit()

    with smtp_server() as (handler, port):
        sent = run_cli(
            "campaign", "send", campaign_id, "--wait", "--json", tmp_path=tmp_path,
            env={"RAPPORT_SMTP_URL": f"smtp://127.0.0.1:{port}"},
        )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert sorted(r.recipient for r in handler.received) == [
        "f0@example.com", "f1@example.com", "f2@example.com"
    ]  # fmt: skip

    status = run_cli("campaign", "status", "Hello friends", "--json", tmp_path=tmp_path)
    assert json.loads(status.stdout) == {
        "state": "sent", "audience": 3, "sent": 3, "failed": 0, "deferred": 0, "unknown": 0,
        "skipped": 0, "capped": 0,
    }  # fmt: skip
    again = run_cli("campaign", "pause", campaign_id, tmp_path=tmp_path)
    assert again.returncode == 2
    assert "sent" in again.stderr


def test_create_refuses_an_unknown_segment_with_exit_code_2(tmp_path: Path) -> None:
    done = run_cli(
        "campaign", "create", "--audience", "Nobody", "--template", "Welcome (English)",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Nobody" in done.stderr
