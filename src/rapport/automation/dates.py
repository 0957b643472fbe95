"""Local dates: which calendar days are alive somewhere on Earth now, and anniversaries.

Offsets run from UTC-12 to UTC+14, so at any instant two or three local dates are current
somewhere. "Today's birthdays in every timezone" is then one indexed query for the month-days
of those dates (``Contact.birth_month_day``), and a check of each hit against the date in its
own timezone.

29 February in a year without one is celebrated on 28 February by default (the day stays in
the birthday's month), or on 1 March when a journey says ``"leap_day": "mar1"``.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings

from rapport.campaigns.timing import zone

EARLIEST_OFFSET = dt.timedelta(hours=-12)
LATEST_OFFSET = dt.timedelta(hours=14)
LEAP_DAY = 229


def alive_dates(now: dt.datetime) -> list[dt.date]:
    """The local dates current somewhere at this instant (two or three)."""
    utc = now.astimezone(dt.UTC)
    first = (utc + EARLIEST_OFFSET).date()
    last = (utc + LATEST_OFFSET).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def month_day(day: dt.date) -> int:
    return day.month * 100 + day.day


def month_days_celebrated(day: dt.date, leap_day: str = "feb28") -> set[int]:
    """The month-days whose anniversary falls on this date (0229 on 28 February or 1 March of a
    year without 29 February)."""
    days = {month_day(day)}
    if not calendar.isleap(day.year):
        stand_in = dt.date(day.year, 3, 1) if leap_day == "mar1" else dt.date(day.year, 2, 28)
        if day == stand_in:
            days.add(LEAP_DAY)
    return days


def anniversary(value: dt.date, year: int, leap_day: str = "feb28") -> dt.date:
    """The date's anniversary in ``year``."""
    if value.month == 2 and value.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1) if leap_day == "mar1" else dt.date(year, 2, 28)
    return value.replace(year=year)


def local_date(now: dt.datetime, timezone_name: str) -> dt.date:
    return now.astimezone(zone(timezone_name or settings.TIME_ZONE)).date()


def local_moment(day: dt.date, at: dt.time, timezone_name: str) -> dt.datetime:
    """That wall-clock time on that day in the contact's timezone, as an aware instant."""
    return dt.datetime.combine(day, at, tzinfo=zone(timezone_name or settings.TIME_ZONE))


def parse_date(value: object) -> dt.date | None:
    """A stored date field (a date, or ISO text in custom fields), or None."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
