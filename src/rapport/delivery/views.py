"""Contacts → Suppression list: search and filter the do-not-send list, block an address or a
domain, remove an entry (with a reason, after a confirmation), export it as CSV. Every rule
is the services' (``rapport.delivery.suppressions``); these views only parse and show."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.access import can, require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.crm.exporting import csv_lines
from rapport.delivery import suppressions
from rapport.delivery.models import SuppressionReason
from rapport.errors import RapportError
from rapport.web.decorators import acting_user, page
from rapport.web.downloads import csv_download


def _filters(request: HttpRequest) -> tuple[str, str]:
    """``q`` and ``reason`` from the query string; an unknown reason is dropped, not an error
    page (it can only come from an edited URL)."""
    q = request.GET.get("q", "").strip()[:254]
    reason = request.GET.get("reason", "")
    return q, reason if reason in SuppressionReason.values else ""


def _page(
    request: HttpRequest, user: User, *, form: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    q, reason = _filters(request)
    after = request.GET.get("after", "")
    listing = suppressions.list_suppressions(
        user, q=q, reason=reason, after=int(after) if after.isdigit() else None
    )
    rows: list[dict[str, Any]] = [
        {"entry": entry, "removable": suppressions.may_remove(user, entry)}
        for entry in listing.entries
    ]
    context = {
        "rows": rows,
        "next_after": listing.next_after,
        "paged": bool(after),
        "q": q,
        "reason": reason,
        "reasons": SuppressionReason.choices,
        "filtered": bool(q or reason),
        "can_add": can(user, Perm.EDIT_CONTACTS),
        "can_block_domains": can(user, Perm.MANAGE_SENDING),
        "form": form or {"email": "", "note": ""},
    }
    return render(request, "delivery/suppressions.html", context, status=status)


@page
@require_GET
def suppression_index(request: HttpRequest) -> HttpResponse:
    return _page(request, acting_user(request))


@page
@require_POST
def suppression_add(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.EDIT_CONTACTS)
    form = {"email": request.POST.get("email", ""), "note": request.POST.get("note", "")}
    try:
        entry = suppressions.add_suppression(form["email"], note=form["note"], acting_user=user)
    except RapportError as error:
        # Shown on the page again with what was typed, so nothing has to be entered twice.
        messages.error(request, error.message)
        return _page(request, user, form=form, status=error.status_code)
    messages.success(request, _("%(email)s is blocked: it gets no email.") % {"email": entry.email})
    return redirect("suppressions")


@page
@require_POST
def suppression_remove(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.EDIT_CONTACTS)
    email = request.POST.get("email", "")
    try:
        entry = suppressions.remove_suppression(
            email, reason=request.POST.get("why", ""), acting_user=user
        )
    except RapportError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "%(email)s is off the suppression list. The contact's status and consent are "
                "unchanged: they get marketing again only if subscribed."
            )
            % {"email": entry.email},
        )
    return redirect("suppressions")


@page
@require_GET
def suppression_export(request: HttpRequest) -> StreamingHttpResponse:
    q, reason = _filters(request)
    rows = suppressions.export_rows(acting_user(request), q=q, reason=reason)
    return csv_download(csv_lines(rows), "suppressions", dated=True)
