"""Filters for report cells: rates as percentages, money with two decimals, no data as —."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(value * 100, 1)} %"


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
    return f"{'+' if value >= 0 else '−'}{number_format(abs(value) * 100, 1)} pp"
