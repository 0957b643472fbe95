"""Import jobs (background task), the `rapport` command, and the spreadsheet-safe export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.crm.exporting import export_contacts, neutralise
from rapport.crm.imports import create_import_job, get_import_job_for
from rapport.crm.models import Contact, ImportJob, ImportStatus
from rapport.errors import InvalidInput, PermissionDenied
from tests.factories import make_contact, make_user
from tests.helpers import current_database_url, run_cli

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_uploaded_file_is_imported_by_the_task_with_rejects_kept():
    user = make_user(Role.MARKETER)
    upload = io.BytesIO(b"email,city\nok@example.com,Xiamen\nbad,Xiamen\n")

    job = create_import_job("contacts", upload, "../../etc/people.csv", acting_user=user)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.original_name == "people.csv"
    assert (job.rows, job.created, job.rejected, job.percent) == (2, 1, 1, 100)
    assert Path(job.rejects_path).is_file()
    assert get_import_job_for(user, job.pk) == job
    assert AuditEntry.objects.filter(action="import.contacts", actor=user).exists()


def test_a_file_that_cannot_be_read_fails_the_job_with_the_reason():
    user = make_user(Role.ADMIN)
    job = create_import_job("contacts", io.BytesIO(b"name\nAnn\n"), "x.csv", acting_user=user)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "No column for email" in job.error


def test_viewers_and_support_cannot_import():
    for role in (Role.VIEWER, Role.SUPPORT):
        with pytest.raises(PermissionDenied):
            create_import_job(
                "contacts", io.BytesIO(b"email\n"), "x.csv", acting_user=make_user(role)
            )
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    assert neutralise(value) == "'" + value
    assert neutralise("plain") == "plain"


def test_export_writes_every_contact_safely(tmp_path):
    make_contact(email="a@example.com", given_name='=HYPERLINK("http://x")', tags=["vip"])
    make_contact(email="b@example.com", city="+Shenzhen")
    path = tmp_path / "out.csv"

    assert export_contacts(Contact.objects.all(), path) == 2

    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [r["email"] for r in rows] == ["a@example.com", "b@example.com"]
    assert rows[0]["given_name"].startswith("'=")
    assert rows[0]["tags"] == "vip"
    assert rows[1]["city"] == "'+Shenzhen"


def test_cli_import_prints_the_promised_json_and_exports(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("邮箱,城市\ncli@example.com,武汉\nnope,武汉\n", encoding="gb18030")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"consent_source": "CLI test"}))

    done = run_cli(
        "import", "contacts", str(source), "--map", str(mapping), "--json", tmp_path=tmp_path
    )

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert {"rows", "created", "updated", "rejected", "rejects_path"} <= payload.keys()
    assert (payload["rows"], payload["created"], payload["rejected"]) == (2, 1, 1)
    assert Path(payload["rejects_path"]).is_file()
    assert Contact.objects.get(email="cli@example.com").consent_source == "CLI test"

    out = tmp_path / "out.csv"
    exported = run_cli("export", "contacts", str(out), tmp_path=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "cli@example.com" in out.read_text(encoding="utf-8-sig")


def test_cli_reports_an_unreadable_file_with_exit_code_2(tmp_path):
    source = tmp_path / "book.xlsx"
    source.write_bytes(b"PK\x03\x04....")
    done = run_cli("import", "contacts", str(source), "--json", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "Excel" in done.stderr


def test_cli_token_create_prints_a_working_token(tmp_path):
    user = make_user(Role.MARKETER, username="integration")
    done = run_cli("token", "create", user.username, "--name", "shop", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    from rapport.accounts.services import user_for_token  # noqa: PLC0415

    assert user_for_token(done.stdout.strip()) == user


def test_the_database_queue_worker_runs_a_queued_import(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    settings.IMPORT_DIR = tmp_path
    user = make_user(Role.MARKETER)
    job = create_import_job(
        "contacts", io.BytesIO(b"email\nqueued@example.com\n"), "q.csv", acting_user=user
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED

    worked = run_cli("db_worker", "--batch", "--queue-name", "*", tmp_path=tmp_path)

    assert worked.returncode == 0, worked.stderr
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
    assert Contact.objects.filter(email="queued@example.com").exists()


def test_cli_user_create_makes_an_account_with_the_role(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rapport.cli",
            "user",
            "create",
            "mei",
            "--role",
            "support",
            "--email",
            "mei@example.com",
            "--language",
            "zh-hans",
        ],
        env=dict(
            os.environ,
            RAPPORT_DATA_DIR=str(tmp_path),
            RAPPORT_PASSWORD="tea-and-biscuits-42",
            RAPPORT_DATABASE_URL=current_database_url(),
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    from rapport.accounts.models import User  # noqa: PLC0415

    user = User.objects.get(username="mei")
    assert (user.role, user.language) == ("support", "zh-hans")
    # The command hashed with the production hasher, not this suite's fast one.
    assert PBKDF2PasswordHasher().verify("tea-and-biscuits-42", user.password)


def test_a_broken_mapping_is_refused_before_anything_is_queued():
    user = make_user(Role.MARKETER)
    with pytest.raises(InvalidInput, match="columns"):
        create_import_job(
            "contacts",
            io.BytesIO(b"email\n"),
            "x.csv",
            mapping={"columns": ["email"]},
            acting_user=user,
        )
    assert not ImportJob.objects.exists()


def test_an_import_can_fill_a_static_list_and_refuses_an_unknown_one(tmp_path):
    from rapport.crm.imports import import_file  # noqa: PLC0415
    from rapport.segments.models import SegmentMember  # noqa: PLC0415
    from rapport.segments.services import save_segment  # noqa: PLC0415

    fair = save_segment(name="Trade fair 2026", kind="static", acting_user=None)
    make_contact(email="known@example.com")
    path = tmp_path / "fair.csv"
    path.write_text("email\nknown@example.com\nnew@example.com\nbroken\n")

    result = import_file("contacts", path, mapping={"list": "Trade fair 2026"}, acting_user=None)

    assert (result.created, result.rejected) == (1, 1)
    members = set(
        SegmentMember.objects.filter(segment=fair).values_list("contact__email", flat=True)
    )
    assert members == {"known@example.com", "new@example.com"}
    with pytest.raises(Exception, match="no segment"):
        import_file("contacts", path, mapping={"list": "Nope"}, acting_user=None)
    with pytest.raises(InvalidInput, match="defined by rules"):
        import_file("contacts", path, mapping={"list": "VIP"}, acting_user=None)
