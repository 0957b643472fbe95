"""Background tasks of the CRM: they take ids and hand the work to services."""

from __future__ import annotations

from django.tasks import task

from rapport.crm import imports


@task(queue_name="imports")
def run_import_job(job_id: int) -> None:
    imports.run_import_job(job_id)
