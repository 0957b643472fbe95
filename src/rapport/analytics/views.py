"""Report pages: a campaign's report, its tables as CSV, and the dashboard's "use this
window" button. Each view checks its permission through the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from rapport.analytics import charts
from rapport.analytics.csv_export import csv_lines
from rapport.analytics.reports import Report
from rapport.analytics.services import (
    get_journey_report_for,
    get_report_for,
    use_suggested_window,
)
from rapport.analytics.staticfiles import plotly_css
from rapport.automation.models import Journey
from rapport.campaigns.models import Campaign
from rapport.errors import Conflict
from rapport.web.decorators import acting_user, page
from rapport.web.downloads import csv_download

# Tables shown with a chart beside them, and the figure each one gets.
CHARTED = {"devices": charts.share_figure, "clients": charts.share_figure}


def _page(
    request: HttpRequest, kind: str, owner: Campaign | Journey, report: Report, *, started: object
) -> HttpResponse:
    """A campaign's or a journey's report page (``kind``: "campaign" or "journey")."""
    tables = report.tables
    figures = {"hourly": charts.hourly_figure(tables["hourly"])}
    figures |= {name: make(tables[name]) for name, make in CHARTED.items() if tables[name].rows}
    shown = ("emails", "links", "devices", "clients", "domains", "segments", "summary")
    context = {
        "title": owner.name,
        "back_url": reverse(kind, args=[owner.pk]),
        "csv_base": reverse(f"{kind}_report", args=[owner.pk]),
        "started": started,
        "report": report,
        "m": report.metrics,
        "c": report.metrics.counts,
        "figures": figures,
        "chart_data": [(f"figure-{name}", figure) for name, figure in figures.items()],
        "tables": [tables[name] for name in shown if name in tables],
    }
    return render(request, "analytics/report.html", context)


def _csv(kind: str, owner: Campaign | Journey, report: Report, name: str) -> HttpResponse:
    if name not in report.tables:
        raise Http404(f"A report has no table {name!r}; it has {', '.join(report.tables)}.")
    lines = csv_lines(report.tables[name])
    return csv_download(lines, f"{kind}-{owner.pk}-{name}")  # type: ignore[return-value]


@page
def campaign_report(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, report = get_report_for(acting_user(request), campaign_id)
    return _page(request, "campaign", campaign, report, started=campaign.started_at)


@page
def campaign_report_csv(request: HttpRequest, campaign_id: int, table: str) -> HttpResponse:
    campaign, report = get_report_for(acting_user(request), campaign_id)
    return _csv("campaign", campaign, report, table)


@page
def journey_report(request: HttpRequest, journey_id: int) -> HttpResponse:
    journey, report = get_journey_report_for(acting_user(request), journey_id)
    return _page(request, "journey", journey, report, started=journey.enabled_at)


@page
def journey_report_csv(request: HttpRequest, journey_id: int, table: str) -> HttpResponse:
    journey, report = get_journey_report_for(acting_user(request), journey_id)
    return _csv("journey", journey, report, table)


@cache_control(public=True, max_age=86400)
def plotly_stylesheet(request: HttpRequest) -> HttpResponse:
    """Plotly's own style rules as a stylesheet (see ``staticfiles.plotly_css``); public like
    any static file."""
    return HttpResponse(plotly_css(), content_type="text/css; charset=utf-8")


@page
@require_POST
def use_window(request: HttpRequest) -> HttpResponse:
    try:
        workspace = use_suggested_window(acting_user=acting_user(request))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("New campaigns now send in the window %(start)s-%(end)s by default.")
            % {"start": f"{workspace.window_start:%H:%M}", "end": f"{workspace.window_end:%H:%M}"},
        )
    return redirect("dashboard")
