"""When each recipient's message is due, in their own timezone.

- ``now`` and ``at``: the same instant for everyone (the campaign's start, or its time);
- ``local``: a wall-clock time in each contact's timezone ("9:00 wherever you are"), on the
  campaign's day, or the next day where that time has already passed;
- ``best_hour``: the next occurrence of the contact's best hour, learned from their own opens
  and clicks (``send_times``), else their segment's, else the workspace's; spread over the
  minutes of that hour by a hash of the contact's id;
- ``window``: the next sending window of the contact's week, by default Tuesday to Thursday
  10:00-14:00 local time, when people read marketing mail. Contacts are spread evenly across
  the window (by a hash of their id, so a rerun gives the same time), not all sent at its first
  minute, which also spreads the load on the mail servers.

Quiet hours (by default 21:00-08:00 local) are never used for marketing mail: a due time inside
them moves to their end. Public holidays of the contact's country are skipped the same way, for
local-time, best-hour and window sends (an explicit instant is the sender's choice). A contact
without a timezone counts as the workspace's.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rapport.campaigns.holidays import holiday
from rapport.campaigns.models import ScheduleMode

TUESDAY, WEDNESDAY, THURSDAY = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Window:
    weekdays: frozenset[int] = frozenset({TUESDAY, WEDNESDAY, THURSDAY})  # Monday is 0
    start: dt.time = dt.time(10, 0)
    end: dt.time = dt.time(14, 0)


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: dt.time = dt.time(21, 0)
    end: dt.time = dt.time(8, 0)

    def contains(self, moment: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True, slots=True)
class Schedule:
    mode: str
    start: dt.datetime  # when the campaign starts sending (aware)
    local_time: dt.time | None = None
    window: Window = Window()
    quiet: QuietHours | None = QuietHours()
    default_zone: str = "UTC"
    avoid_holidays: bool = True
    fallback_hour: int = 10  # best hour of a contact with nothing learned and no better guess


@lru_cache(maxsize=1024)
def zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def due_at(
    schedule: Schedule,
    *,
    contact_id: int,
    timezone_name: str,
    country: str = "",
    best_hour: int | None = None,
) -> dt.datetime:
    """The moment (UTC) this contact's message is due (``best_hour``: theirs, for that mode)."""
    tz = zone(timezone_name or schedule.default_zone)
    local_time = schedule.local_time if schedule.mode == ScheduleMode.LOCAL_TIME else None
    if schedule.mode == ScheduleMode.BEST_HOUR:
        hour = schedule.fallback_hour if best_hour is None else best_hour
        local_time = dt.time(hour % 24, _spread(contact_id) % 60)
    if schedule.mode not in (
        ScheduleMode.LOCAL_TIME,
        ScheduleMode.BEST_WINDOW,
        ScheduleMode.BEST_HOUR,
    ) or (local_time is None and schedule.mode != ScheduleMode.BEST_WINDOW):
        return schedule.start  # the same instant for all: "now" or "at"
    skip_day = _holiday_check(country) if schedule.avoid_holidays else None
    start = schedule.start
    for _ in range(_MOST_DAYS_OFF):
        if local_time is not None:
            due = _next_local(start, local_time, tz)
        else:
            due = _in_window(start, schedule.window, tz, contact_id)
        if schedule.quiet is not None:
            due = _after_quiet_hours(due, schedule.quiet, tz)
        local_day = due.astimezone(tz).date()
        if skip_day is None or not skip_day(local_day):
            break
        # A holiday there: look again from the start of the next local day.
        start = dt.datetime.combine(local_day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return due.astimezone(dt.UTC)


_MOST_DAYS_OFF = 30  # Golden Week and its weekends are the longest run of days off


def _holiday_check(country: str) -> Callable[[dt.date], bool] | None:
    if not country:
        return None
    return lambda day: bool(holiday(country, day))


def _next_local(start: dt.datetime, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    local_start = start.astimezone(tz)
    candidate = dt.datetime.combine(local_start.date(), at, tzinfo=tz)
    if candidate < local_start:
        candidate = dt.datetime.combine(local_start.date() + dt.timedelta(days=1), at, tzinfo=tz)
    return candidate


def _in_window(start: dt.datetime, window: Window, tz: dt.tzinfo, contact_id: int) -> dt.datetime:
    local_start = start.astimezone(tz)
    length = dt.datetime.combine(dt.date.min, window.end) - dt.datetime.combine(
        dt.date.min, window.start
    )
    offset = dt.timedelta(seconds=_spread(contact_id) % int(length.total_seconds()))
    for days_ahead in range(8):
        day = local_start.date() + dt.timedelta(days=days_ahead)
        if day.weekday() not in window.weekdays:
            continue
        opens = dt.datetime.combine(day, window.start, tzinfo=tz)
        closes = dt.datetime.combine(day, window.end, tzinfo=tz)
        if local_start >= closes:
            continue
        slot = opens + offset
        if slot >= local_start:
            return slot
        # Inside today's window already, past this contact's slot: go now, not next week.
        return local_start
    return local_start  # a window with no weekdays: send as scheduled


def _spread(contact_id: int) -> int:
    """A well-mixed number from a contact's id (Knuth's multiplicative hash): a stable place
    for them inside a window or an hour."""
    return contact_id * 2654435761 % 2**32


def _after_quiet_hours(due: dt.datetime, quiet: QuietHours, tz: dt.tzinfo) -> dt.datetime:
    local = due.astimezone(tz)
    if not quiet.contains(local.timetz().replace(tzinfo=None)):
        return due
    day = local.date() if local.time() < quiet.end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, quiet.end, tzinfo=tz)
