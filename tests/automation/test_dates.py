"""Birthdays across timezones and leap years, and holiday triggers in 2027 and 2028."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict

import pytest

from rapport.automation.calendar import holiday_date, holiday_keys
from rapport.automation.dates import alive_dates, anniversary, month_days_celebrated
from rapport.automation.models import JourneyEntry
from rapport.content.models import Coupon
from rapport.delivery.models import Delivery, DeliveryState
from tests.automation.conftest import make_journey, run
from tests.factories import make_contact

BIRTHDAY = {
    "trigger": {"type": "date", "field": "birthday"},
    "steps": [{"type": "email", "template": "Birthday (English)"}],
}


def _hours(start: dt.datetime, days: int) -> list[dt.datetime]:
    return [start + dt.timedelta(hours=h) for h in range(days * 24)]


@pytest.mark.django_db
def test_a_birthday_email_goes_once_a_year_on_the_local_birthday(mail):
    handler, pool = mail
    make_journey(BIRTHDAY, on=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    people = {
        "shanghai@example.com": ("Asia/Shanghai", dt.date(1990, 3, 15)),
        "la@example.com": ("America/Los_Angeles", dt.date(1985, 3, 15)),
        "auckland@example.com": ("Pacific/Auckland", dt.date(1979, 3, 1)),
        "leap@example.com": ("Europe/Berlin", dt.date(1992, 2, 29)),
    }
    for email, (zone, birthday) in people.items():
        make_contact(email=email, timezone=zone, birthday=birthday)
    make_contact(email="nobirthday@example.com", timezone="Asia/Shanghai")

    for year in (2027, 2028):  # hourly from 26 February to 17 March, twice per hour
        for moment in _hours(dt.datetime(year, 2, 26, tzinfo=dt.UTC), 20):
            run(moment, pool)
            run(moment + dt.timedelta(minutes=30), pool)

    assert Counter(r.recipient for r in handler.received) == {email: 2 for email in people}
    sent_on: dict[str, list[dt.date]] = defaultdict(list)
    for email, zone, sent_at in Delivery.objects.filter(state=DeliveryState.SENT).values_list(
        "contact__email", "contact__timezone", "sent_at"
    ):
        sent_on[email].append(sent_at.astimezone(zoneinfo.ZoneInfo(zone)).date())
    assert sorted(sent_on["shanghai@example.com"]) == [dt.date(2027, 3, 15), dt.date(2028, 3, 15)]
    assert sorted(sent_on["la@example.com"]) == [dt.date(2027, 3, 15), dt.date(2028, 3, 15)]
    assert sorted(sent_on["auckland@example.com"]) == [dt.date(2027, 3, 1), dt.date(2028, 3, 1)]
    # 29 February: on the 28th in 2027, on the day itself in 2028.
    assert sorted(sent_on["leap@example.com"]) == [dt.date(2027, 2, 28), dt.date(2028, 2, 29)]
    assert sorted(JourneyEntry.objects.values_list("occurrence", flat=True)) == [
        "2027", "2027", "2027", "2027", "2028", "2028", "2028", "2028",
    ]  # fmt: skip
    # A new coupon code each year, each one different.
    codes = list(
        Coupon.objects.filter(contact__email="leap@example.com").values_list("code", flat=True)
    )
    assert len(codes) == 2 and len(set(codes)) == 2
    bodies = [r.raw for r in handler.received if r.recipient == "leap@example.com"]
    assert all(any(code.encode() in body for body in bodies) for code in codes)


@pytest.mark.django_db
def test_a_leap_day_birthday_can_be_kept_on_the_first_of_march(mail):
    _handler, pool = mail
    definition = {**BIRTHDAY, "trigger": {"type": "date", "field": "birthday", "leap_day": "mar1"}}
    make_journey(definition, on=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    make_contact(email="leap@example.com", timezone="UTC", birthday=dt.date(2000, 2, 29))
    for moment in _hours(dt.datetime(2027, 2, 27, tzinfo=dt.UTC), 4):
        run(moment, pool)
    assert [d.date() for d in Delivery.objects.values_list("sent_at", flat=True)] == [
        dt.date(2027, 3, 1)
    ]


@pytest.mark.django_db
def test_a_custom_date_field_fires_days_before_its_anniversary():
    from rapport.crm.models import CustomField  # noqa: PLC0415

    CustomField.objects.create(key="joined", label="Member since", type="date")
    definition = {
        "trigger": {"type": "date", "field": "custom.joined", "offset_days": -3},
        "steps": [{"type": "tag", "add": ["anniversary-soon"]}],
    }
    make_journey(definition, on=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    member = make_contact(timezone="UTC", custom={"joined": "2019-06-20"})
    run(dt.datetime(2027, 6, 16, 12, tzinfo=dt.UTC))
    assert not JourneyEntry.objects.exists()
    run(dt.datetime(2027, 6, 17, 12, tzinfo=dt.UTC))
    member.refresh_from_db()
    assert member.tags == ["anniversary-soon"]


def test_two_or_three_local_dates_are_alive_at_any_instant():
    assert alive_dates(dt.datetime(2027, 2, 10, 11, 0, tzinfo=dt.UTC)) == [
        dt.date(2027, 2, 9), dt.date(2027, 2, 10), dt.date(2027, 2, 11),
    ]  # fmt: skip
    assert alive_dates(dt.datetime(2027, 2, 10, 6, 0, tzinfo=dt.UTC)) == [
        dt.date(2027, 2, 9), dt.date(2027, 2, 10),
    ]  # fmt: skip


def test_leap_day_anniversaries():
    assert month_days_celebrated(dt.date(2027, 2, 28)) == {228, 229}
    assert month_days_celebrated(dt.date(2028, 2, 28)) == {228}
    assert month_days_celebrated(dt.date(2028, 2, 29)) == {229}
    assert month_days_celebrated(dt.date(2027, 3, 1), "mar1") == {301, 229}
    assert month_days_celebrated(dt.date(2027, 3, 1)) == {301}
    assert anniversary(dt.date(1992, 2, 29), 2027) == dt.date(2027, 2, 28)
    assert anniversary(dt.date(1992, 2, 29), 2027, "mar1") == dt.date(2027, 3, 1)
    assert anniversary(dt.date(1992, 2, 29), 2028) == dt.date(2028, 2, 29)


# Published dates (State Council calendar; lunar dates from the Chinese calendar).
CHINA = {
    2027: {
        "spring_festival": dt.date(2027, 2, 6), "qingming": dt.date(2027, 4, 5),
        "labour_day": dt.date(2027, 5, 1), "dragon_boat": dt.date(2027, 6, 9),
        "mid_autumn": dt.date(2027, 9, 15), "national_day": dt.date(2027, 10, 1),
        "double_11": dt.date(2027, 11, 11), "618": dt.date(2027, 6, 18),
    },
    2028: {
        "spring_festival": dt.date(2028, 1, 26), "qingming": dt.date(2028, 4, 4),
        "labour_day": dt.date(2028, 5, 1), "dragon_boat": dt.date(2028, 5, 28),
        "mid_autumn": dt.date(2028, 10, 3), "national_day": dt.date(2028, 10, 1),
        "double_11": dt.date(2028, 11, 11), "618": dt.date(2028, 6, 18),
    },
}  # fmt: skip


@pytest.mark.parametrize("year", [2027, 2028])
def test_the_chinese_calendar(year):
    assert {key: holiday_date("CN", key, year) for key in CHINA[year]} == CHINA[year]


def test_other_countries_come_from_the_holidays_package():
    assert "Christmas Day" in holiday_keys("US")
    assert holiday_date("US", "Thanksgiving Day", 2027) == dt.date(2027, 11, 25)
    assert holiday_date("US", "No such day", 2027) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "shanghai_midnight", "new_york_midnight"),
    [
        # a week before the Spring Festival: 30 January 2027, 19 January 2028
        (
            2027,
            dt.datetime(2027, 1, 29, 16, tzinfo=dt.UTC),
            dt.datetime(2027, 1, 30, 5, tzinfo=dt.UTC),
        ),
        (
            2028,
            dt.datetime(2028, 1, 18, 16, tzinfo=dt.UTC),
            dt.datetime(2028, 1, 19, 5, tzinfo=dt.UTC),
        ),
    ],
)
def test_a_holiday_trigger_fires_on_its_day_in_each_timezone(
    year, shanghai_midnight, new_york_midnight
):
    definition = {
        "trigger": {
            "type": "holiday",
            "holiday": "spring_festival",
            "country": "CN",
            "days_before": 7,
        },
        "steps": [{"type": "tag", "add": ["festival"]}],
    }
    make_journey(definition, on=dt.datetime(year - 1, 12, 1, tzinfo=dt.UTC))
    shanghai = make_contact(timezone="Asia/Shanghai")
    new_york = make_contact(timezone="America/New_York")
    minute = dt.timedelta(minutes=1)

    run(shanghai_midnight - minute)
    assert not JourneyEntry.objects.exists()
    run(shanghai_midnight + minute)
    assert list(JourneyEntry.objects.values_list("contact_id", flat=True)) == [shanghai.pk]
    run(new_york_midnight - minute)
    run(new_york_midnight + minute)
    run(new_york_midnight + dt.timedelta(hours=5))  # later the same day: nothing more
    entries = JourneyEntry.objects.values_list("contact_id", "occurrence", "cause")
    assert sorted(entries) == [
        (shanghai.pk, str(year), f"holiday:spring_festival:{year}"),
        (new_york.pk, str(year), f"holiday:spring_festival:{year}"),
    ]
