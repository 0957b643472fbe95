"""Import jobs: an uploaded file, queued, run in the background with progress, reported."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.crm.importing.base import BatchOutcome, ImportOptions
from rapport.crm.importing.runner import SPECS, ImportResult, run_import
from rapport.crm.models import ImportJob, ImportStatus
from rapport.crm.signals import import_finished
from rapport.errors import InvalidInput, NotFound, RapportError

log = logging.getLogger(__name__)


def import_file(
    kind: str,
    path: Path,
    *,
    mapping: dict[str, Any] | None = None,
    acting_user: User | None,
    rejects_path: Path | None = None,
    progress: Any = None,
) -> ImportResult:
    """Import a file in this process (the CLI); audited like a background job."""
    if acting_user is not None:
        require(acting_user, Perm.IMPORT_DATA)
    options = _options(mapping or {}, path.name)
    result = run_import(
        kind,
        path,
        options,
        rejects_path=rejects_path,
        progress=progress,
        on_written=_list_joiner(kind, options),
    )
    import_finished.send(sender=__name__, kind=kind)
    record_audit(
        acting_user,
        f"import.{kind}",
        target_type="file",
        target_id=path.name,
        detail=result.as_json(),
    )
    return result


def _options(mapping: dict[str, Any], name: str) -> ImportOptions:
    if not isinstance(mapping, dict):
        raise InvalidInput('The column mapping must be a JSON object like {"columns": {…}}.')
    try:
        options = ImportOptions.from_mapping(mapping, source=f"import:{name}"[:100])
    except ValueError as error:
        raise InvalidInput(f"The column mapping is not valid: {error}") from None
    if not options.consent_source:
        options = dataclasses.replace(options, consent_source=f"import of {name}"[:200])
    return options


def _list_joiner(kind: str, options: ImportOptions) -> Callable[[BatchOutcome], None] | None:
    """When the mapping names a static list, a hook that adds each batch's contacts to it."""
    if not options.list_name:
        return None
    if kind != "contacts":
        raise InvalidInput("Only a contacts import can add people to a list.", field="list")
    from rapport.segments.services import add_list_members, find_static_list  # noqa: PLC0415

    segment_id = find_static_list(options.list_name)
    return lambda outcome: add_list_members(segment_id, outcome.contact_ids, source="import")


def create_import_job(
    kind: str,
    upload: IO[bytes],
    original_name: str,
    *,
    mapping: dict[str, Any] | None = None,
    acting_user: User,
) -> ImportJob:
    """Keep the uploaded file and queue its import; the task starts after commit."""
    require(acting_user, Perm.IMPORT_DATA)
    if kind not in SPECS:
        raise InvalidInput(f"Cannot import {kind!r}; choose contacts, products or orders.")
    # A broken mapping or an unknown list is refused now, not later in the task.
    _list_joiner(kind, _options(mapping or {}, original_name))
    directory = Path(settings.IMPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stored = directory / f"{uuid.uuid4().hex}.csv"
    with stored.open("wb") as out:
        shutil.copyfileobj(upload, out, length=1024 * 1024)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            file_path=str(stored),
            original_name=Path(original_name).name[:255] or "upload.csv",
            mapping=mapping or {},
            total_bytes=stored.stat().st_size,
            created_by=acting_user,
        )
        record_audit(
            acting_user,
            "import.queue",
            target_type="import_job",
            target_id=job.pk,
            detail={"kind": kind, "file": job.original_name},
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from rapport.crm.tasks import run_import_job as task  # noqa: PLC0415 - tasks import us

    task.enqueue(job_id)


def run_import_job(job_id: int) -> None:
    """Run a queued job; safe to call twice (a finished job is left alone)."""
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
    ).update(status=ImportStatus.RUNNING)
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int, total: int, result: ImportResult) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            processed_bytes=done,
            rows=result.rows,
            created=result.created,
            updated=result.updated,
        )

    try:
        options = _options(job.mapping, job.original_name)
        result = run_import(
            job.kind,
            Path(job.file_path),
            options,
            rejects_path=Path(settings.IMPORT_DIR) / f"job-{job.pk}-rejects.csv",
            progress=progress,
            on_written=_list_joiner(job.kind, options),
        )
    except RapportError as error:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, error=error.message, finished_at=timezone.now()
        )
        return
    except Exception:
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED,
            error="The import stopped on an internal error; the rows before it were saved. "
            "Run it again: rows already imported are not duplicated.",
            finished_at=timezone.now(),
        )
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.DONE,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        rejected=result.rejected,
        rejects_path=result.rejects_path,
        summary=result.as_json(),
        processed_bytes=job.total_bytes,
        finished_at=timezone.now(),
    )
    import_finished.send(sender=__name__, kind=job.kind)
    record_audit(
        job.created_by,
        f"import.{job.kind}",
        target_type="import_job",
        target_id=job.pk,
        detail=result.as_json(),
    )


def get_import_job_for(user: User, job_id: int) -> ImportJob:
    require(user, Perm.IMPORT_DATA)
    try:
        return ImportJob.objects.get(pk=job_id)
    except ImportJob.DoesNotExist:
        raise NotFound(f"No import job {job_id}.") from None
