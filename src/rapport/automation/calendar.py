"""Holidays a journey can be timed against, per country and year.

China's festivals come by name from the ``holidays`` package (it computes the lunar ones for
any year: Spring Festival, Dragon Boat, Mid-Autumn), plus the shopping days that are no public
holiday (11.11, 6.18, 5.20, 12.12). Every other country's holidays are named as the package
names them in English ("Christmas Day" for US). A holiday is its *first* day: the Spring
Festival is the first day of the lunar year, not the days off around it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

# key -> the package's English name (its first day in the year)
CHINA_FESTIVALS: dict[str, str] = {
    "new_year": "New Year's Day",
    "spring_festival": "Chinese New Year (Spring Festival)",
    "qingming": "Tomb-Sweeping Day",
    "labour_day": "Labor Day",
    "dragon_boat": "Dragon Boat Festival",
    "mid_autumn": "Mid-Autumn Festival",
    "national_day": "National Day",
}
# Shopping days: fixed dates, month and day.
CHINA_SHOPPING_DAYS: dict[str, tuple[int, int]] = {
    "520": (5, 20),
    "618": (6, 18),
    "double_11": (11, 11),
    "double_12": (12, 12),
}


@lru_cache(maxsize=256)
def _named(country: str, year: int) -> dict[str, dt.date]:
    """Each holiday's name -> its first day that year (observed days left out)."""
    try:
        days = holidays.country_holidays(country, years=year, language="en_US")
    except (NotImplementedError, KeyError):
        return {}
    first: dict[str, dt.date] = {}
    for day, names in sorted(days.items()):
        for name in str(names).split("; "):
            if "(observed)" not in name:
                first.setdefault(name, day)
    return first


def holiday_keys(country: str) -> list[str]:
    """What a holiday trigger may name for this country."""
    country = country.upper()
    if country == "CN":
        return [*CHINA_FESTIVALS, *CHINA_SHOPPING_DAYS]
    year = dt.datetime.now(tz=dt.UTC).year
    return sorted(set(_named(country, year)) | set(_named(country, year + 1)))


def holiday_date(country: str, key: str, year: int) -> dt.date | None:
    """The first day of that holiday in that year, or None when it has none then."""
    country = country.upper()
    if country == "CN":
        if key in CHINA_SHOPPING_DAYS:
            month, day = CHINA_SHOPPING_DAYS[key]
            return dt.date(year, month, day)
        key = CHINA_FESTIVALS.get(key, key)
    return _named(country, year).get(key)
