"""``rapport suppression list|add|remove|export`` in a child process on the test database:
what each prints, and exit code 2 with a clear message on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport.accounts.models import AuditEntry
from rapport.delivery.models import Suppression, SuppressionReason
from tests.helpers import run_cli

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_list_remove_and_export(tmp_path: Path) -> None:
    Suppression.objects.create(email="gone@example.com", reason=SuppressionReason.HARD_BOUNCE)

    added = run_cli("suppression", "add", "Anna@Example.com", "--note", "=asked", tmp_path=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "anna@example.com blocked"
    domain = run_cli("suppression", "add", "@spam.example.com", tmp_path=tmp_path)
    assert domain.returncode == 0, domain.stderr

    listed = run_cli("suppression", "list", "--reason", "blocked", "--json", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)
    assert [e["email"] for e in entries] == ["@spam.example.com", "anna@example.com"]
    assert entries[1]["note"] == "=asked" and entries[1]["reason"] == "blocked"
    plain = run_cli("suppression", "list", tmp_path=tmp_path)
    assert [line.split("\t")[:2] for line in plain.stdout.splitlines()] == [
        ["@spam.example.com", "blocked"], ["anna@example.com", "blocked"],
        ["gone@example.com", "bounced"],
    ]  # fmt: skip

    out = tmp_path / "list.csv"
    exported = run_cli("suppression", "export", str(out), tmp_path=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"3 entries written to {out}"
    text = out.read_text(encoding="utf-8-sig")
    assert "anna@example.com,blocked,staff: CLI,'=asked" in text

    removed = run_cli("suppression", "remove", "anna@example.com", "--reason", "typo",
                      tmp_path=tmp_path)  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert "anna@example.com removed" in removed.stdout
    assert not Suppression.objects.filter(email="anna@example.com").exists()
    audit = AuditEntry.objects.get(action="suppression.remove")
    assert audit.actor_label == "system" and audit.detail["why"] == "typo"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["add", "not-an-address"], "'not-an-address' is not a valid email address"),
        (["remove", "erased@example.com", "--reason", "x"], "erased on request"),
        (["remove", "erased@example.com"], "Say why the entry is removed"),
        (["remove", "nobody@example.com", "--reason", "x"], "is not on the suppression list"),
        (["list", "--reason", "lost"], "'lost' is not a reason"),
    ],
)
def test_bad_input_exits_2_with_the_reason(args: list[str], says: str, tmp_path: Path) -> None:
    Suppression.objects.create(email="erased@example.com", reason=SuppressionReason.ERASED)

    done = run_cli("suppression", *args, tmp_path=tmp_path)

    assert done.returncode == 2
    assert says in " ".join(done.stderr.split())
    assert Suppression.objects.filter(email="erased@example.com").exists()
