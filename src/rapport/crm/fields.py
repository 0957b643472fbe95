"""Normalise and validate one contact field at a time.

Each ``normalise_*`` takes the raw text of a cell (or an API value) and returns the stored
value, or raises ``FieldError`` with a reason a marketer understands. Imports, the API and
the UI all use these, so a value is judged the same way wherever it comes from.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import cache
from urllib.parse import urlsplit

from babel import Locale
from email_validator import EmailNotValidError, validate_email

from rapport.crm.models import BIRTHDAY_UNKNOWN_YEAR, Audience, ContactStatus, Honorific


class FieldError(ValueError):
    """A value that cannot be stored; the message says why, without naming the column."""


# Addresses this pattern accepts are certainly valid for email-validator (checked by a
# property test), so the common case skips its ~45 µs; anything else goes through it.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9](?:[a-z0-9_+\-]|\.(?!\.)){0,62}(?<!\.)"
    r"@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
)
_SPECIAL_USE_TLDS = frozenset({"test", "local", "localhost", "invalid", "example", "arpa", "onion"})


def normalise_email(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise FieldError("is empty; every contact needs an email address")
    lowered = text.lower()
    if (
        len(lowered) <= 254
        and _PLAIN_EMAIL.fullmatch(lowered)
        and lowered.rsplit(".", 1)[1] not in _SPECIAL_USE_TLDS
        and "--" not in lowered.partition("@")[2]  # "xn--" and "ab--" labels: IDNA rules apply
    ):
        return lowered
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise FieldError(f"{text!r} is not a valid email address: {error}") from None
    return result.normalized.lower()


_PHONE_JUNK = str.maketrans("", "", " -().\u00a0/")


def normalise_phone(raw: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    compact = text.translate(_PHONE_JUNK)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    digits = compact[1:] if compact.startswith("+") else compact
    if not digits.isdigit() or not digits.isascii() or not 5 <= len(digits) <= 17:
        raise FieldError(f"{text!r} is not a phone number (digits, spaces, + and - only)")
    return compact


_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_CHINESE_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_DMY_OR_MDY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_MONTH_DAY = re.compile(r"(?:--)?(\d{1,2})-(\d{1,2})")


def parse_date(raw: str, date_format: str | None = None) -> tuple[dt.date, bool] | None:
    """Parse a date cell; returns ``(date, year_known)`` or None for an empty cell.

    Accepts ISO dates (1990-02-03, 1990/2/3), Chinese dates (1990年2月3日, 2月3日), a
    month and day alone (--02-03, 02-03), and D/M/Y or M/D/Y when the day is over 12.
    An ambiguous 03/04/1990 is refused rather than guessed: a mapping's ``date_format``
    settles it.
    """
    text = raw.strip()
    if not text:
        return None
    if date_format:
        try:
            return dt.datetime.strptime(text, date_format).date(), True  # noqa: DTZ007 - a date
        except ValueError:
            raise FieldError(f"{text!r} does not match the date format {date_format!r}") from None
    year: int | None
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _CHINESE_DATE.fullmatch(text):
        year = int(match[1]) if match[1] else None
        month, day = int(match[2]), int(match[3])
    elif match := _DMY_OR_MDY.fullmatch(text):
        first, second, year = (int(g) for g in match.groups())
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            month, day = first, second
        else:
            raise FieldError(
                f"{text!r} is ambiguous (day/month or month/day?); write it as YYYY-MM-DD "
                "or set a date_format in the column mapping"
            )
    elif match := _MONTH_DAY.fullmatch(text):
        year, month, day = None, int(match[1]), int(match[2])
    else:
        raise FieldError(f"{text!r} is not a date (use YYYY-MM-DD)")
    try:
        value = dt.date(year or BIRTHDAY_UNKNOWN_YEAR, month, day)
    except ValueError:
        raise FieldError(f"{text!r} is not a real date") from None
    return value, year is not None


def parse_birthday(raw: str, date_format: str | None = None) -> tuple[dt.date, bool] | None:
    parsed = parse_date(raw, date_format)
    if parsed is None:
        return None
    value, year_known = parsed
    if year_known and not 1900 <= value.year <= dt.date.today().year:  # noqa: DTZ011 - a date
        raise FieldError(f"{raw.strip()!r} is not a plausible birthday")
    return parsed


_LOCALE = re.compile(r"([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{4}))?(?:[-_]([a-zA-Z]{2}|\d{3}))?")
_LOCALE_WORDS = {
    "中文": "zh-CN",
    "简体中文": "zh-CN",
    "繁體中文": "zh-TW",
    "繁体中文": "zh-TW",
    "english": "en",
    "英文": "en",
    "英语": "en",
    "chinese": "zh-CN",
}


def normalise_locale(raw: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    if word := _LOCALE_WORDS.get(text.lower()):
        return word
    match = _LOCALE.fullmatch(text)
    if not match:
        raise FieldError(f"{text!r} is not a locale (e.g. en, en-GB, zh-CN)")
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


@cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


_TIMEZONE_WORDS = {"beijing": "Asia/Shanghai", "北京时间": "Asia/Shanghai", "gmt": "UTC"}


def normalise_timezone(raw: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    key = text.lower()
    if word := _TIMEZONE_WORDS.get(key):
        return word
    if name := _timezones().get(key):
        return name
    raise FieldError(f"{text!r} is not a time zone (use a name like Asia/Shanghai)")


@cache
def _country_names() -> dict[str, str]:
    """Country names in English and Chinese, and ISO codes, mapped to ISO 3166 codes."""
    names: dict[str, str] = {}
    for language in ("en", "zh_Hans", "zh_Hant"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO"}:
                names[name.lower()] = code
                names[code.lower()] = code
    names.update(
        {
            "usa": "US",
            "uk": "GB",
            "prc": "CN",
            "中国大陆": "CN",
            "大陆": "CN",
            "england": "GB",
            "america": "US",
        }
    )
    return names


def normalise_country(raw: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    if code := _country_names().get(text.lower()):
        return code
    raise FieldError(f"{text!r} is not a country (use a 2-letter ISO code like CN or US)")


_AUDIENCE_WORDS = {
    "b2b": Audience.B2B,
    "business": Audience.B2B,
    "company": Audience.B2B,
    "企业": Audience.B2B,
    "公司": Audience.B2B,
    "b2c": Audience.B2C,
    "consumer": Audience.B2C,
    "individual": Audience.B2C,
    "personal": Audience.B2C,
    "个人": Audience.B2C,
    "消费者": Audience.B2C,
    "nonprofit": Audience.NONPROFIT,
    "non-profit": Audience.NONPROFIT,
    "npo": Audience.NONPROFIT,
    "ngo": Audience.NONPROFIT,
    "charity": Audience.NONPROFIT,
    "非营利": Audience.NONPROFIT,
    "公益": Audience.NONPROFIT,
    "非营利组织": Audience.NONPROFIT,
}


def normalise_audience(raw: str) -> str:
    text = raw.strip().lower()
    if not text:
        return ""
    if value := _AUDIENCE_WORDS.get(text):
        return str(value)
    raise FieldError(f"{raw.strip()!r} is not an audience type (b2b, b2c or nonprofit)")


_STATUS_WORDS = {
    **{status.value: status.value for status in ContactStatus},
    "yes": ContactStatus.SUBSCRIBED.value,
    "true": ContactStatus.SUBSCRIBED.value,
    "1": ContactStatus.SUBSCRIBED.value,
    "订阅": ContactStatus.SUBSCRIBED.value,
    "已订阅": ContactStatus.SUBSCRIBED.value,
    "no": ContactStatus.NOT_SUBSCRIBED.value,
    "false": ContactStatus.NOT_SUBSCRIBED.value,
    "0": ContactStatus.NOT_SUBSCRIBED.value,
    "退订": ContactStatus.UNSUBSCRIBED.value,
    "已退订": ContactStatus.UNSUBSCRIBED.value,
}


def normalise_status(raw: str) -> str:
    text = raw.strip().lower()
    if not text:
        return ""
    if value := _STATUS_WORDS.get(text):
        return value
    choices = ", ".join(ContactStatus.values)
    raise FieldError(f"{raw.strip()!r} is not a subscription status ({choices})")


_HONORIFIC_WORDS = {
    "mr": Honorific.MR,
    "mr.": Honorific.MR,
    "先生": Honorific.MR,
    "ms": Honorific.MS,
    "ms.": Honorific.MS,
    "mrs": Honorific.MS,
    "mrs.": Honorific.MS,
    "miss": Honorific.MS,
    "女士": Honorific.MS,
    "小姐": Honorific.MS,
    "mx": Honorific.MX,
    "dr": Honorific.DR,
    "dr.": Honorific.DR,
    "博士": Honorific.DR,
}


def normalise_honorific(raw: str) -> str:
    text = raw.strip().lower()
    if not text:
        return ""
    if value := _HONORIFIC_WORDS.get(text):
        return str(value)
    raise FieldError(f"{raw.strip()!r} is not a title (Mr, Ms, Mx, Dr, 先生, 女士)")


_LIST_SEPARATORS = re.compile(r"\s*[,;|、，；]\s*")


def split_list(raw: str) -> list[str]:
    """Split "photo, travel；美食" into distinct lower-cased items, order kept."""
    items: list[str] = []
    for item in _LIST_SEPARATORS.split(raw.strip()):
        value = item.strip().lower()[:64]
        if value and value not in items:
            items.append(value)
    return items


def parse_decimal(raw: str, *, what: str = "an amount") -> Decimal:
    text = raw.strip().replace(",", "").lstrip("¥$€£").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FieldError(f"{raw.strip()!r} is not {what}") from None
    if not value.is_finite() or abs(value) >= Decimal("1e11"):
        raise FieldError(f"{raw.strip()!r} is not {what}")
    return value.quantize(Decimal("0.01"))


def parse_bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text in {"1", "true", "yes", "y", "是", "对"}:
        return True
    if text in {"0", "false", "no", "n", "否", "不"}:
        return False
    raise FieldError(f"{raw.strip()!r} is not yes or no")


def parse_datetime(raw: str) -> dt.datetime:
    """An ISO 8601 time; a time without an offset is taken as UTC."""
    text = raw.strip()
    if not text:
        raise FieldError("is empty")
    try:
        value = dt.datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        parsed = parse_date(text)
        if parsed is None:
            raise FieldError("is empty") from None
        value = dt.datetime.combine(parsed[0], dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def normalise_currency(raw: str) -> str:
    text = raw.strip().upper()
    aliases = {"RMB": "CNY", "人民币": "CNY", "元": "CNY", "¥": "CNY", "$": "USD", "美元": "USD"}
    text = aliases.get(text, text)
    if len(text) != 3 or not text.isalpha() or not text.isascii():
        raise FieldError(f"{raw.strip()!r} is not a currency code (CNY, USD, EUR …)")
    return text


def parse_web_url(raw: str) -> str:
    """An http(s) address for a product page or picture; anything else (``javascript:``, data
    URLs, bare words) would be unsafe or broken in an email."""
    text = raw.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or " " in text:
        raise FieldError(f"{text!r} is not a web address (https://…)")
    if len(text) > 500:
        raise FieldError("is longer than 500 characters")
    return text
