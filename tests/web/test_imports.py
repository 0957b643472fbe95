"""The import page: upload, the job list with its htmx polling rows, the rejects download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client

from rapport.accounts.roles import Role
from rapport.crm.models import Contact, ImportJob, ImportStatus

ClientFor = Callable[[str], Client]
CSV = (
    "email,name,phone,country\n"
    "wei.zhang@example.cn,张伟,13812345678,CN\n"
    "not-an-email,Bad Row,,GB\n"
    "anna@example.com,Anna Schmidt,,DE\n"
).encode()


def _upload(client: Client, capture: Any, **extra: str) -> Any:
    data: dict[str, Any] = {
        "kind": "contacts",
        "file": SimpleUploadedFile("客户.csv", CSV, "text/csv"),
        **extra,
    }
    with capture(execute=True):
        return client.post("/imports/", data)


def test_upload_runs_the_import_and_lists_the_job(
    client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(Role.MARKETER)
    response = _upload(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE
    assert (job.created, job.rejected) == (2, 1)
    assert Contact.objects.filter(email="wei.zhang@example.cn", family_name="张").exists()
    page = client.get("/imports/").content.decode()
    assert "客户.csv" in page
    assert f"/imports/{job.pk}/rejects" in page
    assert "hx-trigger" not in page  # a finished job is not polled

    rejects = client.get(f"/imports/{job.pk}/rejects")
    assert rejects.status_code == 200
    assert isinstance(rejects, FileResponse)
    body = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert "not-an-email" in body and "reject_reason" in body


def test_running_job_row_polls_until_done(client_for: ClientFor) -> None:
    client = client_for(Role.ADMIN)
    job = ImportJob.objects.create(
        kind="orders",
        status=ImportStatus.RUNNING,
        file_path="/x.csv",
        original_name="orders.csv",
        total_bytes=200,
        processed_bytes=50,
    )
    row = client.get(f"/imports/{job.pk}/row").content.decode()
    assert row.lstrip().startswith("<tr")
    assert 'hx-trigger="every 1s"' in row and f'hx-get="/imports/{job.pk}/row"' in row
    assert 'value="25"' in row
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    row = client.get(f"/imports/{job.pk}/row").content.decode()
    assert "hx-get" not in row and 'value="100"' in row


def test_bad_mapping_is_a_form_error(
    client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(Role.MARKETER)
    response = _upload(client, django_capture_on_commit_callbacks, mapping="{not json")
    assert response.status_code == 200
    assert "not valid JSON" in response.content.decode()
    response = _upload(client, django_capture_on_commit_callbacks, mapping='["email"]')
    assert "must be a JSON object" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_mapping_the_importer_refuses_is_shown_on_the_form_and_nothing_is_queued(
    client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(Role.MARKETER)
    response = _upload(client, django_capture_on_commit_callbacks, mapping='{"columns": ["email"]}')
    assert response.status_code == 200
    assert "mapping is not valid" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_job_without_rejects_has_no_download(client_for: ClientFor) -> None:
    client = client_for(Role.OWNER)
    job = ImportJob.objects.create(
        kind="contacts", status=ImportStatus.DONE, file_path="/x.csv", original_name="a.csv"
    )
    assert client.get(f"/imports/{job.pk}/rejects").status_code == 404
    assert client.get("/imports/424242/rejects").status_code == 404


def test_support_and_viewer_may_not_upload(client_for: ClientFor) -> None:
    for role in (Role.SUPPORT, Role.VIEWER):
        data = {"kind": "contacts", "file": SimpleUploadedFile("a.csv", CSV, "text/csv")}
        assert client_for(role).post("/imports/", data).status_code == 403
    assert not ImportJob.objects.exists()
