"""Plotly figures (plain JSON: data and layout) for the report and the dashboard.

Built as dicts rather than with plotly's Python figure classes: the page only needs the JSON,
and the classes validate every attribute on every request. The browser draws them with
``vendor/plotly.min.js`` (see ``staticfiles.py``) through ``analytics/charts.js``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from rapport.analytics.dashboard import Day
from rapport.analytics.reports import Table

Figure = dict[str, Any]
_LAYOUT: dict[str, Any] = {
    "margin": {"l": 48, "r": 16, "t": 16, "b": 40},
    "height": 300,
    "legend": {"orientation": "h", "y": -0.2},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


def _layout(**extra: Any) -> dict[str, Any]:
    return {**_LAYOUT, **extra}


def _column(table: Table, name: str) -> list[Any]:
    index = table.columns.index(name)
    return [row[index] for row in table.rows]


def hourly_figure(table: Table) -> Figure:
    hours = _column(table, "hour")
    lines = (("opens", _("Opens")), ("clicks", _("Clicks")), ("machine_opens", _("Machine opens")))
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": label,
            "x": hours,
            "y": _column(table, name),
            **({"line": {"dash": "dot"}} if name == "machine_opens" else {}),
        }
        for name, label in lines
    ]
    return {"data": data, "layout": _layout(xaxis={"title": {"text": _("Hours after sending")}})}


def share_figure(table: Table) -> Figure:
    """Openers per device (or client), as bars: easier to compare than a pie."""
    labels = [str(row[0]) for row in table.rows]
    data = [
        {"type": "bar", "name": _("Openers"), "x": labels, "y": _column(table, "openers")},
        {"type": "bar", "name": _("Clickers"), "x": labels, "y": _column(table, "clickers")},
    ]
    return {"data": data, "layout": _layout(barmode="group", height=260)}


def daily_figure(series: list[Day]) -> Figure:
    days = [d.day.isoformat() for d in series]
    data = [
        {
            "type": "bar",
            "name": _("Sent"),
            "x": days,
            "y": [d.sent for d in series],
            "marker": {"color": "#c7d2fe"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Opened"),
            "x": days,
            "y": [d.openers for d in series],
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Clicked"),
            "x": days,
            "y": [d.clickers for d in series],
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Orders from email"),
            "x": days,
            "y": [d.orders for d in series],
        },
    ]
    return {"data": data, "layout": _layout()}


def growth_figure(series: list[Day]) -> Figure:
    days = [d.day.isoformat() for d in series]
    data = [
        {
            "type": "bar",
            "name": _("Subscribed"),
            "x": days,
            "y": [d.gained for d in series],
            "marker": {"color": "#16a34a"},
        },
        {
            "type": "bar",
            "name": _("Unsubscribed, bounced or complained"),
            "x": days,
            "y": [-d.lost for d in series],
            "marker": {"color": "#dc2626"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Net growth"),
            "x": days,
            "y": [d.growth for d in series],
        },
    ]
    return {"data": data, "layout": _layout(barmode="relative", height=260)}


def heatmap_figure(grid: list[list[int]]) -> Figure:
    """Weekday × local hour, as a grid of coloured squares. Plotly's ``heatmap`` trace draws
    an image and a colour bar with inline ``style`` attributes, which the pages' CSP refuses;
    square markers are coloured through the CSS object model, which it allows."""
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    cells = [(hour, names[day], grid[day][hour]) for day in range(7) for hour in range(24)]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "x": [hour for hour, _day, _n in cells],
            "y": [day for _hour, day, _n in cells],
            "customdata": [n for _hour, _day, n in cells],
            "marker": {
                "symbol": "square",
                "size": 20,
                "color": [n for _hour, _day, n in cells],
                "colorscale": [[0, "#f1f5ff"], [1, "#1d4ed8"]],
                "showscale": False,
                "line": {"width": 0},
            },
            "hovertemplate": "%{y} %{x}:00 · %{customdata}<extra></extra>",
        }
    ]
    layout = _layout(
        height=280,
        xaxis={"title": {"text": _("Local hour")}, "dtick": 2, "range": [-0.6, 23.6]},
        yaxis={"autorange": "reversed", "type": "category", "categoryarray": names},
        showlegend=False,
    )
    return {"data": data, "layout": layout}
