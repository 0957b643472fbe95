"""Field normalisers, including the email fast path checked against email-validator."""

from __future__ import annotations

import datetime as dt

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.crm import fields as f
from rapport.crm.names import display_name, split_full_name


@settings(max_examples=800, deadline=None)
@given(st.from_regex(f._PLAIN_EMAIL, fullmatch=True))
def test_every_fast_path_address_is_valid_for_email_validator(address):
    domain = address.partition("@")[2]
    if len(address) > 254 or address.rsplit(".", 1)[1] in f._SPECIAL_USE_TLDS or "--" in domain:
        return  # these take the slow path, which the next test covers
    assert f.normalise_email(address) == address
    result = validate_email(address, check_deliverability=False)
    assert result.normalized.lower() == address


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_text_is_either_an_accepted_address_or_a_clear_error(text):
    try:
        normalised = f.normalise_email(text)
    except f.FieldError as error:
        assert str(error)
    else:
        validate_email(normalised, check_deliverability=False)


@pytest.mark.parametrize(
    "raw",
    ["a..b@example.com", "a@b", "@example.com", "a@-x.com", "x@example.test", "a b@example.com"],
)
def test_bad_addresses_are_refused(raw):
    with pytest.raises(f.FieldError):
        f.normalise_email(raw)


def test_unicode_addresses_go_through_email_validator():
    assert f.normalise_email("用户@例子.广告") == "用户@例子.广告"
    with pytest.raises(EmailNotValidError):
        validate_email("a..b@example.com", check_deliverability=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-02-03", (dt.date(1990, 2, 3), True)),
        ("1990/2/3", (dt.date(1990, 2, 3), True)),
        ("1990年2月3日", (dt.date(1990, 2, 3), True)),
        ("2月29日", (dt.date(1904, 2, 29), False)),
        ("--12-24", (dt.date(1904, 12, 24), False)),
        ("25/12/1980", (dt.date(1980, 12, 25), True)),
        ("12/25/1980", (dt.date(1980, 12, 25), True)),
        ("", None),
    ],
)
def test_dates_people_write(raw, expected):
    assert f.parse_birthday(raw) == expected


@pytest.mark.parametrize(
    "raw", ["1990-13-01", "1990-02-30", "01/02/1990", "tomorrow", "1850-01-01"]
)
def test_impossible_or_ambiguous_birthdays_are_refused(raw):
    with pytest.raises(f.FieldError):
        f.parse_birthday(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("zh_cn", "zh-CN"), ("EN-gb", "en-GB"), ("中文", "zh-CN"), ("zh-Hant-TW", "zh-Hant-TW")],
)
def test_locales(raw, expected):
    assert f.normalise_locale(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("中国", "CN"),
        ("China", "CN"),
        ("us", "US"),
        ("United Kingdom", "GB"),
        ("新加坡", "SG"),
        ("德国", "DE"),
    ],
)
def test_countries_in_english_and_chinese(raw, expected):
    assert f.normalise_country(raw) == expected


def test_phones_and_timezones():
    assert f.normalise_phone("(021) 6888-1234") == "02168881234"
    assert f.normalise_phone("0086 138 0000 0000") == "+8613800000000"
    with pytest.raises(f.FieldError):
        f.normalise_phone("call me")
    assert f.normalise_timezone("asia/shanghai") == "Asia/Shanghai"
    with pytest.raises(f.FieldError):
        f.normalise_timezone("Mars/Olympus")


@pytest.mark.parametrize(
    ("full", "given", "family", "shown"),
    [
        ("张伟", "伟", "张", "张伟"),
        ("司马相如", "相如", "司马", "司马相如"),
        ("John Smith", "John", "Smith", "John Smith"),
        ("Smith, John", "John", "Smith", "John Smith"),
        ("Madonna", "Madonna", "", "Madonna"),
    ],
)
def test_names_split_and_show_in_their_own_order(full, given, family, shown):
    assert split_full_name(full) == (given, family)
    assert display_name(given, family) == shown


def test_list_splitting_dedupes_and_lowercases():
    assert f.split_list("Photo, travel；美食、Photo | ") == ["photo", "travel", "美食"]
