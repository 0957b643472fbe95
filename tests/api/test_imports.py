"""/api/v1/imports: upload, progress, and the rejects file, with the task run in-process."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.crm.models import Contact, ImportJob, ImportStatus
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports"

CONTACTS_CSV = (
    "邮箱,姓名,城市,生日\n"
    "wang.fang@example.cn,王芳,杭州,1990-02-03\n"
    "not-an-address,李四,北京,\n"
    "lucy@example.org,Lucy Gray,London,31/02/1990\n"
).encode()


def _upload(api: ApiClient, data: dict[str, Any]) -> Any:
    return api.post(URL, data)  # multipart, as a browser or curl -F sends it


def _file(content: bytes = CONTACTS_CSV, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_upload_queues_a_job_that_runs_after_commit(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(api, {"kind": "contacts", "file": _file()})

    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["kind"], queued["status"], queued["original_name"]) == (
        "contacts",
        "queued",
        "customers.csv",
    )

    job = api.get(f"{URL}/{queued['id']}").json()
    assert (job["status"], job["percent"], job["rows"], job["created"], job["rejected"]) == (
        "done",
        100,
        3,
        1,
        2,
    )
    assert job["has_rejects"] is True
    assert job["error"] == ""
    assert list(Contact.objects.values_list("email", flat=True)) == ["wang.fang@example.cn"]


def test_rejects_file_lists_each_refused_row(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _upload(api, {"kind": "contacts", "file": _file()}).json()["id"]

    response = api.get(f"{URL}/{job_id}/rejects")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="customers-rejects.csv"' in response["Content-Disposition"]
    text = response.getvalue().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3  # header and two refused rows
    assert [row[0] for row in rows[1:]] == ["3", "4"]
    assert "not-an-address" in rows[1]


def test_mapping_is_passed_to_the_import(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    content = b"Mail,Label\nmapped@example.org,vip\n"
    mapping = '{"columns": {"Mail": "email", "Label": "tags"}, "status": "not_subscribed"}'
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(api, {"kind": "contacts", "file": _file(content), "mapping": mapping})
    assert response.status_code == 202, response.content
    contact = Contact.objects.get(email="mapped@example.org")
    assert (contact.tags, contact.status) == (["vip"], "not_subscribed")


def test_a_job_still_queued_has_no_rejects_yet(api: ApiClient) -> None:
    job_id = _upload(api, {"kind": "contacts", "file": _file()}).json()["id"]
    assert ImportJob.objects.get(pk=job_id).status == ImportStatus.QUEUED

    response = api.get(f"{URL}/{job_id}/rejects")

    assert response.status_code == 404
    assert "queued" in response.json()["error"]


def test_a_clean_import_has_no_rejects(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _upload(
            api, {"kind": "contacts", "file": _file(b"email\nok@example.org\n")}
        ).json()["id"]
    response = api.get(f"{URL}/{job_id}/rejects")
    assert response.status_code == 404
    assert response.json() == {
        "error": f"Import job {job_id} has no rejects file: no row was refused."
    }


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"kind": "contacts", "mapping": "{not json"}, 400, "mapping"),
        ({"kind": "contacts", "mapping": "[1, 2]"}, 400, "mapping"),
        ({"kind": "invoices"}, 400, None),
        ({"kind": "contacts", "file": None}, 422, "file"),
        ({"file": "FILE"}, 422, "kind"),
    ],
)
def test_upload_refuses_bad_input(
    api: ApiClient, tmp_path: Path, data: dict[str, Any], status: int, field: str | None
) -> None:
    data = {"file": "FILE", **data}
    if data["file"] == "FILE":
        data["file"] = _file()
    else:
        del data["file"]
    response = _upload(api, data)
    assert response.status_code == status, response.content
    assert response.json().get("field") == field
    assert not ImportJob.objects.exists()


def test_missing_job_is_404(api: ApiClient) -> None:
    assert api.get(f"{URL}/5150").json() == {"error": "No import job 5150."}
    assert api.get(f"{URL}/5150/rejects").status_code == 404
