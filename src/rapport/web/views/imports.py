"""The import page: upload a CSV, watch the jobs run, download a job's rejected rows."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.crm.imports import create_import_job, get_import_job_for
from rapport.crm.queries import recent_import_jobs
from rapport.errors import InvalidInput
from rapport.web.decorators import acting_user, page
from rapport.web.forms import ImportForm

TEMPLATE = "web/imports/page.html"


@page
def import_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.IMPORT_DATA)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = create_import_job(
                form.cleaned_data["kind"],
                upload,
                upload.name,
                mapping=form.cleaned_data["mapping"],
                acting_user=user,
            )
        except InvalidInput as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("%(name)s is queued for import.") % {"name": job.original_name}
            )
            return redirect("imports")
    return render(request, TEMPLATE, {"form": form, "jobs": recent_import_jobs()})


@page
def import_job_row(request: HttpRequest, job_id: int) -> HttpResponse:
    """One job's row, polled by htmx while the job is queued or running."""
    job = get_import_job_for(acting_user(request), job_id)
    return render(request, f"{TEMPLATE}#job_row", {"job": job})


@page
def import_rejects(request: HttpRequest, job_id: int) -> FileResponse:
    job = get_import_job_for(acting_user(request), job_id)
    path = Path(job.rejects_path)
    # The path comes from our own job row; still, serve nothing outside the import folder.
    if (
        not job.rejects_path
        or not path.is_file()
        or not path.resolve().is_relative_to(Path(settings.IMPORT_DIR).resolve())
    ):
        raise Http404(_("This import has no rejected rows to download."))
    name = f"{Path(job.original_name).stem}-rejects.csv"
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type="text/csv; charset=utf-8"
    )
