"""The start page: how the customer base stands, what arrived lately, and (for those who
read reports) the last 30 or 90 days of sending, engagement and growth."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rapport.accounts.access import can, require
from rapport.accounts.roles import Perm
from rapport.analytics import charts
from rapport.web.dashboard import REVENUE_DAYS, load_dashboard
from rapport.web.decorators import page


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW_CONTACTS)
    days = 90 if request.GET.get("days") == "90" else 30
    data = load_dashboard(
        with_imports=can(request.user, Perm.IMPORT_DATA),
        with_reports=can(request.user, Perm.VIEW_REPORTS),
        days=days,
    )
    context: dict[str, object] = {"data": data, "revenue_days": REVENUE_DAYS, "days": days}
    if data.engagement is not None:
        context["chart_data"] = [
            ("figure-daily", charts.daily_figure(data.engagement.series)),
            ("figure-growth", charts.growth_figure(data.engagement.series)),
            ("figure-heatmap", charts.heatmap_figure(data.engagement.heatmap)),
        ]
    return render(request, "web/dashboard.html", context)
