"""Checks that an error said in Chinese is the English one translated: the same place, the
same values, the words in Chinese."""

from __future__ import annotations

import re

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Quoted input and numbers (limits, 1e+20, -2): what a translation must carry over as it is.
VALUES = re.compile(r"'[^']*'|-?\d+(?:\.\d+)?(?:e\+\d+)?")


def assert_translated(english: str, chinese: str, place: str) -> None:
    """Both messages are ``place: what is wrong``; the place is JSON and never translated."""
    english_place, _, english_detail = english.partition(": ")
    where, _, detail = chinese.partition(": ")
    assert (english_place, where) == (place, place)
    assert CHINESE.search(detail), detail
    assert detail != english_detail
    for value in VALUES.findall(english_detail):
        assert value in detail, (value, detail)
