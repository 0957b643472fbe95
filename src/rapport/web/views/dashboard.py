"""The start page: how the customer base stands, and what arrived lately."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rapport.accounts.access import can, require
from rapport.accounts.roles import Perm
from rapport.web.dashboard import REVENUE_DAYS, load_dashboard
from rapport.web.decorators import page


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW_CONTACTS)
    data = load_dashboard(with_imports=can(request.user, Perm.IMPORT_DATA))
    return render(request, "web/dashboard.html", {"data": data, "revenue_days": REVENUE_DAYS})
