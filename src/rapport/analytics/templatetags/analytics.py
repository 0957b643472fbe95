"""Filters for report cells: rates as percentages, money with two decimals, no data as —."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format
from django.utils.html import format_html_join
from django.utils.translation import gettext as _

from rapport.analytics.staticfiles import plotly_inline_style_ids

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(round(value * 100, 1), 1)} %"  # number_format truncates


@register.filter
def cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return percent(value)
    if isinstance(value, Decimal):
        return str(floatformat(value, "2g"))
    if isinstance(value, int):
        return str(intcomma(value))
    return str(value)


@register.filter
def signed_points(value: float | None) -> str:
    """A difference of two rates in percentage points: +1.5 pp."""
    if value is None:
        return "—"
    return f"{'+' if value >= 0 else '−'}{number_format(round(abs(value) * 100, 1), 1)} pp"


@register.simple_tag
def plotly_style_guards() -> str:
    """Empty elements with the ids of the styles plotly.js would otherwise insert inline."""
    return format_html_join("\n", '<meta id="{}">', ((i,) for i in plotly_inline_style_ids()))


@register.filter
def weekday_names(days: tuple[int, ...]) -> str:
    """(1, 2, 3) -> "Tue, Wed, Thu" in the page's language."""
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    return ", ".join(str(names[day]) for day in days)
