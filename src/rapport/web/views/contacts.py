"""The contact list (search, filters, keyset pages), one contact, and the CSV export."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts.access import can, require
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.crm.exporting import contact_rows, csv_lines
from rapport.crm.queries import contacts_matching
from rapport.crm.services import get_contact_for, update_contact
from rapport.delivery.suppressions import entry_for_address
from rapport.web.contacts import contact_detail, contact_list
from rapport.web.decorators import acting_user, page
from rapport.web.downloads import csv_download
from rapport.web.forms import ContactFilterForm


@page
def contact_index(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW_CONTACTS)
    form = ContactFilterForm(request.GET)
    filters = form.filters()
    listing = contact_list(filters, after=form.cursor())
    return render(
        request,
        "web/contacts/list.html",
        {
            "form": form,
            "listing": listing,
            "filtered": any(asdict(filters).values()),
        },
    )


@page
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    user = acting_user(request)
    contact = get_contact_for(user, contact_id)
    return render(
        request,
        "web/contacts/detail.html",
        {
            "detail": contact_detail(contact),
            "can_edit": can(user, Perm.EDIT_CONTACTS),
            "suppression": entry_for_address(contact.email),
        },
    )


@page
@require_POST
def contact_tracking(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Turn open and click tracking off (or on again) for one contact, as they asked."""
    on = request.POST.get("tracking") == "on"
    update_contact(contact_id, {"tracking": on}, acting_user=acting_user(request))
    if on:
        messages.success(request, _("Opens and clicks of this contact are tracked again."))
    else:
        messages.success(request, _("This contact's opens and clicks are no longer tracked."))
    return redirect("contact", contact_id=contact_id)


@page
def contact_export(request: HttpRequest) -> StreamingHttpResponse:
    """Stream the filtered contacts as CSV: rows go out as they are read, memory stays flat."""
    user = acting_user(request)
    require(user, Perm.EXPORT_DATA)
    filters = ContactFilterForm(request.GET).filters()
    record_audit(user, "contacts.export", target_type="contacts", detail=asdict(filters))
    rows = contact_rows(contacts_matching(filters))
    return csv_download(csv_lines(rows), "contacts", dated=True)
