"""``rapport campaign ab-test|learn-hours|frequency-test`` in a child process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport.campaigns.models import ABTest, FrequencyTest
from rapport.campaigns.services import create_campaign
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact
from tests.helpers import run_cli

pytestmark = pytest.mark.django_db(transaction=True)


def _friends(count: int) -> None:
    listing = Segment.objects.create(name="Friends", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=listing, contact=make_contact(email=f"f{n}@example.com"))
        for n in range(count)
    )


def test_set_up_and_show_an_ab_test(tmp_path: Path) -> None:
    _friends(4)
    campaign = create_campaign(name="Autumn", template="Welcome (English)",
                               audience=["Friends"], acting_user=None)  # fmt: skip
    spec = tmp_path / "test.json"
    spec.write_text(json.dumps({"variants": [{}, {"subject": "Welcome, friend"}],
                                "test_share": 50, "metric": "open"}))  # fmt: skip
    shown = run_cli("campaign", "ab-test", "Autumn", "--spec", str(spec), "--json",
                    tmp_path=tmp_path)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    test = json.loads(shown.stdout)
    assert (test["state"], test["test_share"], test["metric"]) == ("draft", 50, "open")
    assert test["variants"][1]["subject"] == "Welcome, friend"
    assert ABTest.objects.get(campaign=campaign).variants.count() == 2

    plain = run_cli("campaign", "ab-test", str(campaign.pk), tmp_path=tmp_path)
    assert "A/B test: draft, 50 % of the audience, metric open" in plain.stdout

    spec.write_text(json.dumps({"variants": [{}, {"subject": "{% if %}"}]}))
    broken = run_cli("campaign", "ab-test", "Autumn", "--spec", str(spec), tmp_path=tmp_path)
    assert broken.returncode == 2 and "Variant B: subject" in broken.stderr
    spec.write_text('{"variants": [{}]}')
    short = run_cli("campaign", "ab-test", "Autumn", "--spec", str(spec), tmp_path=tmp_path)
    assert short.returncode == 2 and "variants" in short.stderr

    removed = run_cli("campaign", "ab-test", "Autumn", "--remove", tmp_path=tmp_path)
    assert removed.returncode == 0 and not ABTest.objects.exists()


def test_frequency_tests_and_learning_hours(tmp_path: Path) -> None:
    _friends(6)
    started = run_cli("campaign", "frequency-test", "start", "--segment", "Friends",
                      "--cap", "1/7", "--cap", "3/7", "--weeks", "4", "--name", "Cadence",
                      tmp_path=tmp_path)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert int(started.stdout) == FrequencyTest.objects.get(name="Cadence").pk
    result = run_cli("campaign", "frequency-test", "result", "Cadence", "--json",
                     tmp_path=tmp_path)  # fmt: skip
    body = json.loads(result.stdout)
    assert [g["contacts"] for g in body["result"]["groups"]] == [3, 3]
    assert body["result"]["recommended"] == "A"
    text = run_cli("campaign", "frequency-test", "cancel", "Cadence", tmp_path=tmp_path)
    assert "Cadence: cancelled" in text.stdout and "A (cap 1/7): 3 contacts" in text.stdout
    bad = run_cli("campaign", "frequency-test", "start", "--segment", "Friends",
                  "--cap", "weekly", "--cap", "3/7", tmp_path=tmp_path)  # fmt: skip
    assert bad.returncode == 2 and "MESSAGES/DAYS" in bad.stderr

    learned = run_cli("campaign", "learn-hours", "--json", tmp_path=tmp_path)
    assert learned.returncode == 0, learned.stderr
    assert json.loads(learned.stdout)["contacts"] == 0
