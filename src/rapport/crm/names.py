"""Names in the contact's own order: "张伟" (family first, no space) and "John Smith"."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")

# Two-character Chinese family names; everything else takes the first character as family.
COMPOUND_FAMILY_NAMES = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "司徒",
        "东方",
        "皇甫",
        "令狐",
        "慕容",
        "尉迟",
        "长孙",
        "夏侯",
        "轩辕",
        "公孙",
        "宇文",
        "独孤",
        "南宫",
        "西门",
        "端木",
        "百里",
        "呼延",
        "申屠",
        "太史",
        "闻人",
        "澹台",
        "公冶",
        "宗政",
        "濮阳",
        "淳于",
        "单于",
        "赫连",
        "万俟",
    ]
)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def split_full_name(full_name: str) -> tuple[str, str]:
    """Split a full name into ``(given, family)``.

    Chinese names put the family name first ("欧阳娜娜" -> 娜娜, 欧阳); "Smith, John" puts it
    before a comma; otherwise the last word is the family name.
    """
    name = " ".join(full_name.split())
    if not name:
        return "", ""
    if has_cjk(name) and " " not in name:
        family_length = 2 if name[:2] in COMPOUND_FAMILY_NAMES and len(name) > 2 else 1
        if len(name) == 1:
            return "", name
        return name[family_length:], name[:family_length]
    if "," in name:
        family, _, given = name.partition(",")
        return given.strip(), family.strip()
    if " " not in name:
        return name, ""
    given, _, family = name.rpartition(" ")
    return given, family


def display_name(given_name: str, family_name: str, locale: str = "") -> str:
    """The name as the person would write it: family first for CJK names and locales."""
    if not given_name or not family_name:
        return given_name or family_name
    cjk_locale = locale[:2] in {"zh", "ja", "ko"}
    if has_cjk(family_name) or has_cjk(given_name):
        return f"{family_name}{given_name}"
    if cjk_locale and family_name.isupper():
        return f"{family_name} {given_name}"
    return f"{given_name} {family_name}"


def search_key(given_name: str, family_name: str) -> str:
    """Lower-cased display name, the column that name prefix search uses."""
    return display_name(given_name, family_name).lower()[:201]
