"""/api/v1/imports: upload a CSV to import in the background, follow it, fetch its rejects."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rapport.api.common import ERRORS, acting_user
from rapport.crm.imports import create_import_job, get_import_job_for
from rapport.crm.models import ImportJob, ImportStatus
from rapport.errors import InvalidInput, NotFound

router = Router(tags=["imports"])


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    percent: int
    original_name: str
    rows: int
    created: int
    updated: int
    rejected: int
    error: str
    summary: dict[str, Any]
    has_rejects: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_has_rejects(job: ImportJob) -> bool:
        return bool(job.rejects_path)


def _mapping(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"mapping is not valid JSON: {error}", field="mapping") from None
    if not isinstance(mapping, dict):
        raise InvalidInput("mapping must be a JSON object.", field="mapping")
    return mapping


@router.post("", response={202: ImportJobOut, **ERRORS})
def create_import(
    request: HttpRequest,
    kind: Form[str],
    file: File[UploadedFile],
    mapping: Form[str | None] = None,
) -> Status[ImportJob]:
    """Queues the import and answers at once (202); poll the job for its progress.

    ``kind`` is contacts, products or orders; ``mapping`` is an optional JSON object of the
    import options (columns, date_format, status, consent_source).
    """
    job = create_import_job(
        kind,
        file,
        file.name or "upload.csv",
        mapping=_mapping(mapping),
        acting_user=acting_user(request),
    )
    return Status(202, job)


@router.get("/{int:job_id}", response={200: ImportJobOut, **ERRORS})
def get_import(request: HttpRequest, job_id: int) -> ImportJob:
    return get_import_job_for(acting_user(request), job_id)


@router.get(
    "/{int:job_id}/rejects",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "The refused rows, each with its line, column and reason",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def get_import_rejects(request: HttpRequest, job_id: int) -> FileResponse:
    """The rejects CSV: fix the cells and import the same file again."""
    job = get_import_job_for(acting_user(request), job_id)
    path = Path(job.rejects_path) if job.rejects_path else None
    if path is None or not path.is_file():
        raise NotFound(f"Import job {job_id} has no rejects file: {_why_none(job)}")
    name = f"{Path(job.original_name).stem}-rejects.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="text/csv")


def _why_none(job: ImportJob) -> str:
    if job.status in {ImportStatus.QUEUED, ImportStatus.RUNNING}:
        return f"it is {job.status}; the file appears when it is done, if any row is refused."
    if job.status == ImportStatus.FAILED:
        return f"the import failed before the end ({job.error})"
    if job.rejected == 0:
        return "no row was refused."
    return "the file is gone (the import folder was cleaned up)."
