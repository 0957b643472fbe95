"""Due times in each contact's timezone: the best window, a local time, quiet hours."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.campaigns.timing import QuietHours, Schedule, Window, due_at, zone

# Monday 8 February 2027, 12:00 UTC: 20:00 in Shanghai, 07:00 in New York.
MONDAY_NOON = dt.datetime(2027, 2, 8, 12, 0, tzinfo=dt.UTC)


def _local(moment: dt.datetime, name: str) -> dt.datetime:
    return moment.astimezone(zone(name))


@pytest.mark.parametrize("name", ["Asia/Shanghai", "America/New_York", "Europe/Berlin", ""])
def test_the_best_window_is_the_next_tuesday_to_thursday_late_morning_local_time(
    name: str,
) -> None:
    schedule = Schedule(mode="window", start=MONDAY_NOON)
    times = [due_at(schedule, contact_id=cid, timezone_name=name) for cid in range(1, 200)]
    for moment in times:
        local = _local(moment, name or "UTC")
        assert local.weekday() == 1  # Tuesday
        assert dt.time(10) <= local.time() < dt.time(14)
    assert len({t.replace(second=0) for t in times}) > 100  # spread, not all at 10:00
    assert due_at(schedule, contact_id=7, timezone_name=name) == times[6]  # stable


def test_inside_todays_window_a_contact_whose_slot_has_passed_goes_now() -> None:
    wednesday_1330_shanghai = dt.datetime(2027, 2, 10, 5, 30, tzinfo=dt.UTC)
    schedule = Schedule(mode="window", start=wednesday_1330_shanghai)
    due = [due_at(schedule, contact_id=cid, timezone_name="Asia/Shanghai") for cid in range(50)]
    assert min(due) == wednesday_1330_shanghai
    assert max(due) < dt.datetime(2027, 2, 10, 6, 0, tzinfo=dt.UTC)  # 14:00 local


def test_a_local_time_is_kept_in_every_timezone_and_moves_a_day_where_it_has_passed() -> None:
    schedule = Schedule(mode="local", start=MONDAY_NOON, local_time=dt.time(9, 0))
    shanghai = due_at(schedule, contact_id=1, timezone_name="Asia/Shanghai")
    new_york = due_at(schedule, contact_id=1, timezone_name="America/New_York")
    assert _local(shanghai, "Asia/Shanghai") == dt.datetime(
        2027, 2, 9, 9, 0, tzinfo=zone("Asia/Shanghai")
    )  # 20:00 there already: tomorrow
    assert _local(new_york, "America/New_York") == dt.datetime(
        2027, 2, 8, 9, 0, tzinfo=zone("America/New_York")
    )


def test_quiet_hours_move_a_late_local_time_to_the_morning() -> None:
    schedule = Schedule(mode="local", start=MONDAY_NOON, local_time=dt.time(23, 30))
    due = _local(due_at(schedule, contact_id=1, timezone_name="Europe/Berlin"), "Europe/Berlin")
    assert (due.date(), due.time()) == (dt.date(2027, 2, 9), dt.time(8, 0))
    unquiet = Schedule(mode="local", start=MONDAY_NOON, local_time=dt.time(23, 30), quiet=None)
    late = _local(due_at(unquiet, contact_id=1, timezone_name="Europe/Berlin"), "Europe/Berlin")
    assert late.time() == dt.time(23, 30)
    assert QuietHours().contains(dt.time(3)) and not QuietHours().contains(dt.time(12))


def test_now_and_at_are_the_same_instant_for_everyone() -> None:
    for mode in ("now", "at"):
        schedule = Schedule(mode=mode, start=MONDAY_NOON)
        assert {
            due_at(schedule, contact_id=1, timezone_name=name)
            for name in ("Asia/Shanghai", "America/New_York", "")
        } == {MONDAY_NOON}


def test_a_campaigns_own_window() -> None:
    weekend = Window(frozenset({5, 6}), dt.time(9), dt.time(11))
    schedule = Schedule(mode="window", start=MONDAY_NOON, window=weekend)
    local = _local(due_at(schedule, contact_id=3, timezone_name="Asia/Shanghai"), "Asia/Shanghai")
    assert local.weekday() == 5 and dt.time(9) <= local.time() < dt.time(11)


def test_the_window_skips_public_holidays_of_the_contacts_country() -> None:
    # 9 and 10 February 2027 are Spring Festival days off in China; Singapore is back at work.
    schedule = Schedule(mode="window", start=MONDAY_NOON)
    china = due_at(schedule, contact_id=3, timezone_name="Asia/Shanghai", country="CN")
    singapore = due_at(schedule, contact_id=3, timezone_name="Asia/Singapore", country="SG")
    unknown = due_at(schedule, contact_id=3, timezone_name="Asia/Shanghai", country="")

    assert _local(china, "Asia/Shanghai").date() == dt.date(2027, 2, 11)  # Thursday
    assert dt.time(10) <= _local(china, "Asia/Shanghai").time() < dt.time(14)
    assert _local(singapore, "Asia/Singapore").date() == dt.date(2027, 2, 9)
    assert _local(unknown, "Asia/Shanghai").date() == dt.date(2027, 2, 9)


def test_a_local_time_skips_a_run_of_holidays_and_the_choice_can_be_turned_off() -> None:
    golden_week = dt.datetime(2027, 9, 30, 12, 0, tzinfo=dt.UTC)  # 20:00 in Shanghai
    keep = Schedule(mode="local", start=golden_week, local_time=dt.time(9, 0))
    ignore = Schedule(
        mode="local", start=golden_week, local_time=dt.time(9, 0), avoid_holidays=False
    )

    kept = due_at(keep, contact_id=1, timezone_name="Asia/Shanghai", country="cn")
    ignored = due_at(ignore, contact_id=1, timezone_name="Asia/Shanghai", country="CN")

    # National Day runs from Friday 1 to Tuesday 5 October 2027.
    assert _local(kept, "Asia/Shanghai") == dt.datetime(
        2027, 10, 6, 9, 0, tzinfo=zone("Asia/Shanghai")
    )
    assert _local(ignored, "Asia/Shanghai").date() == dt.date(2027, 10, 1)


def test_an_explicit_instant_is_the_senders_choice_even_on_a_holiday() -> None:
    national_day = dt.datetime(2027, 10, 1, 2, 0, tzinfo=dt.UTC)
    schedule = Schedule(mode="at", start=national_day)
    assert due_at(schedule, contact_id=1, timezone_name="Asia/Shanghai", country="CN") == (
        national_day
    )
