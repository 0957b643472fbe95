"""Public holidays by country, so that marketing mail does not land on a day off.

The ``holidays`` package computes each country's days for any year, including those that
follow the lunar calendar (Spring Festival, Dragon Boat, Mid-Autumn for CN; Lunar New Year
for SG, HK, TW, KR, VN). It does not know China's adjusted working weekends, which only
matters for mail we would *hold back* on those Saturdays anyway (they are outside the
default window). Days are cached per country and year: a campaign to a million contacts
asks a handful of times.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=512)
def _days(country: str, year: int) -> dict[dt.date, str]:
    try:
        return dict(holidays.country_holidays(country, years=year, language="en_US").items())
    except (NotImplementedError, KeyError):  # a country the package does not cover
        return {}


def holiday(country: str, day: dt.date) -> str:
    """The holiday's name on that day in that country (ISO 3166 alpha-2), or ""."""
    if len(country) != 2:
        return ""
    return _days(country.upper(), day.year).get(day, "")
