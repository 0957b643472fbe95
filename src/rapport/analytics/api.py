"""/api/v1/campaigns/{id}/report: a campaign's report as JSON, the same numbers as its page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from rapport.analytics.reports import Report
from rapport.analytics.services import get_report_for
from rapport.api.common import ERRORS, acting_user

router = Router(tags=["reports"])


class MoneyOut(Schema):
    currency: str
    amount: Decimal


class TableOut(Schema):
    columns: list[str]
    rows: list[list[Any]]


class ComparisonOut(Schema):
    metric: str
    this: float | None
    median: float | None
    difference: float | None


class ReportOut(Schema):
    campaign_id: int
    name: str
    as_of: dt.datetime | None = Field(description="when the delivery counts were taken")
    counts: dict[str, int]
    rates: dict[str, float | None] = Field(description="fractions (0.25 = 25 %); null: no data")
    revenue: list[MoneyOut]
    revenue_per_email: list[MoneyOut] = Field(description="revenue / emails delivered")
    compared_with: int = Field(description="previous broadcasts in the median")
    comparison: list[ComparisonOut]
    tables: dict[str, TableOut]


def report_json(report: Report) -> dict[str, Any]:
    counts = report.metrics.counts
    numbers = {k: v for k, v in vars(counts).items() if isinstance(v, int)}
    numbers["bounced"] = counts.bounced
    return {
        "as_of": report.metrics.as_of,
        "counts": numbers,
        "rates": report.metrics.rates(),
        "revenue": [vars(m) for m in counts.revenue],
        "revenue_per_email": [vars(m) for m in report.metrics.revenue_per_email],
        "compared_with": report.compared_with,
        "comparison": [
            {"metric": c.metric, "this": c.this, "median": c.median, "difference": c.difference}
            for c in report.comparison
        ],
        "tables": {
            name: {"columns": list(t.columns), "rows": [list(row) for row in t.rows]}
            for name, t in report.tables.items()
        },
    }


@router.get("/{campaign_id}/report", response={200: ReportOut, **ERRORS})
def campaign_report(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    campaign, report = get_report_for(acting_user(request), campaign_id)
    return {"campaign_id": campaign.pk, "name": campaign.name, **report_json(report)}
