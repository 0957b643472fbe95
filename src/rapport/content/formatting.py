"""Dates, numbers, money and greetings in the contact's language.

Babel takes about 25 µs to format one amount, more than rendering a whole message, and the
same prices and dates recur in every email of a campaign, so results are cached by value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from rapport.crm.names import display_name

DEFAULT_LOCALE = "en"
_DATE_STYLES = frozenset({"short", "medium", "long", "full"})
_HONORIFICS: dict[str, dict[str, str]] = {
    "en": {"mr": "Mr", "ms": "Ms", "mx": "Mx", "dr": "Dr"},
    "zh": {"mr": "先生", "ms": "女士", "mx": "", "dr": "博士"},
}
_GENERIC = {"en": "Dear customer", "zh": "亲爱的顾客"}


@lru_cache(maxsize=256)
def babel_locale(tag: str) -> Locale:
    """``zh-Hans``, ``zh_CN``, ``en-GB`` or empty: the nearest locale Babel knows."""
    text = (tag or DEFAULT_LOCALE).replace("-", "_")
    try:
        return Locale.parse(text)
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse(text.split("_")[0])
        except (UnknownLocaleError, ValueError):
            return Locale.parse(DEFAULT_LOCALE)


def language_of(tag: str) -> str:
    """ "zh" for Chinese locales, "en" for everything else (the languages greetings exist in)."""
    return "zh" if (tag or "").lower().startswith("zh") else "en"


@lru_cache(maxsize=8192)
def money(amount: Any, currency: str, locale: str) -> str:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return str(format_currency(value, currency or "USD", locale=babel_locale(locale)))


@lru_cache(maxsize=8192)
def number(value: Any, locale: str) -> str:
    return str(format_decimal(value, locale=babel_locale(locale)))


@lru_cache(maxsize=1024)
def percent(value: Any, locale: str) -> str:
    return str(format_percent(value, locale=babel_locale(locale)))


@lru_cache(maxsize=8192)
def date(value: dt.date, style: str, locale: str) -> str:
    return str(format_date(value, _style(style), locale=babel_locale(locale)))


@lru_cache(maxsize=8192)
def date_time(value: dt.datetime, style: str, locale: str) -> str:
    return str(format_datetime(value, _style(style), locale=babel_locale(locale)))


def _style(style: str) -> str:
    # A pattern ("yyyy-MM-dd") passes through; Babel rejects a broken one with ValueError.
    return style if style in _DATE_STYLES or any(c.isalpha() for c in style) else "medium"


def salutation(honorific: str, given_name: str, family_name: str, locale: str) -> str:
    """ "Dear Ms Li" / "亲爱的李女士", falling back to the given name, then to a generic one."""
    language = language_of(locale)
    title = _HONORIFICS[language].get(honorific, "")
    if language == "zh":
        if family_name and title:
            return f"亲爱的{family_name}{title}"
        name = display_name(given_name, family_name, locale)
        return f"亲爱的{name}" if name else _GENERIC["zh"]
    if family_name and title:
        return f"Dear {title} {family_name}"
    if given_name:
        return f"Dear {given_name}"
    return _GENERIC["en"]


def generic_salutation(locale: str) -> str:
    return _GENERIC[language_of(locale)]
