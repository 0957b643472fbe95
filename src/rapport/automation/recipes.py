"""Journeys ready to switch on: each is a definition built on the starting templates, with the
email in the contact's language (Chinese for a ``zh`` locale, English otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.accounts.models import User
from rapport.content.models import Template, TemplateKind
from rapport.content.services import TemplateContent, create_template

LIBRARY = Path(__file__).parent / "library"


@dataclass(frozen=True, slots=True)
class Recipe:
    name: str | Promise
    description: str | Promise


RECIPES: dict[str, Recipe] = {
    "welcome": Recipe(
        _("Welcome series"),
        _("Three emails over a week to each new confirmed subscriber; ends when they buy."),
    ),
    "birthday": Recipe(
        _("Birthday greeting"),
        _(
            "On the birthday in the contact's timezone, 9-11 in the morning: a greeting with a "
            "unique coupon (a new code each year) and 100 loyalty points."
        ),
    ),
    "spring_festival": Recipe(
        _("Spring Festival promotion"),
        _("A promotion a week before the Spring Festival (Chinese New Year), every year."),
    ),
    "winback": Recipe(
        _("Win-back"),
        _(
            "When a customer reaches the lapsed stage: a win-back offer, a reminder a week "
            "later, and a note to staff if they still have not come back."
        ),
    ),
    "cross_sell": Recipe(
        _("Post-purchase cross-sell"),
        _("Three days after each order: what buyers of the same products buy next."),
    ),
}


def recipe_list() -> list[dict[str, str]]:
    """The recipes as rows (key, name, description) in the active language."""
    return [
        {"key": key, "name": str(r.name), "description": str(r.description)}
        for key, r in RECIPES.items()
    ]


_CHINESE = {"field": "locale", "op": "starts_with", "value": "zh"}


def _localised(english: str, chinese: str) -> dict[str, Any]:
    return {
        "type": "condition",
        "rules": _CHINESE,
        "yes": [{"type": "email", "template": chinese}],
        "no": [{"type": "email", "template": english}],
    }


_CROSS_SELL_TEMPLATES = {
    "Cross-sell (English)": ("cross_sell.en.html", "en",
                             "{{ contact.first_name | default(\"Hi\") }}, picked for you"),
    "Cross-sell (简体中文)": ("cross_sell.zh-hans.html", "zh-hans", "为您挑选的搭配好物"),
}  # fmt: skip


def _ensure_cross_sell_templates(acting_user: User | None) -> None:
    for name, (filename, language, subject) in _CROSS_SELL_TEMPLATES.items():
        if not Template.objects.filter(name=name).exists():
            html = (LIBRARY / filename).read_text(encoding="utf-8")
            create_template(
                name=name,
                content=TemplateContent(subject=subject, html=html),
                kind=TemplateKind.OTHER,
                language=language,
                acting_user=acting_user,
            )


def recipe_definition(key: str, *, acting_user: User | None = None) -> dict[str, Any]:
    """The recipe's definition (creating the templates it needs that are not built in)."""
    if key == "welcome":
        return {
            "trigger": {"type": "subscribed"},
            "reentry": "once",
            "steps": [
                _localised("Welcome (English)", "Welcome (简体中文)"),
                {"type": "wait", "days": 2},
                _localised("Newsletter (English)", "Newsletter (简体中文)"),
                {"type": "wait", "days": 5},
                _localised("Promotion (English)", "Promotion (简体中文)"),
                {"type": "tag", "add": ["welcomed"]},
                {"type": "goal", "event": "ordered"},
            ],
        }
    if key == "birthday":
        return {
            "trigger": {"type": "date", "field": "birthday", "leap_day": "feb28"},
            "reentry": "yearly",
            "steps": [
                {"type": "wait", "window": {"start": "09:00", "end": "11:00"}},
                _localised("Birthday (English)", "Birthday (简体中文)"),
                {"type": "points", "points": 100, "reason": "birthday"},
            ],
        }
    if key == "spring_festival":
        return {
            "trigger": {
                "type": "holiday",
                "holiday": "spring_festival",
                "country": "CN",
                "days_before": 7,
            },
            "reentry": "yearly",
            "steps": [
                {"type": "wait", "window": {"start": "10:00", "end": "12:00"}},
                _localised("Promotion (English)", "Promotion (简体中文)"),
            ],
        }
    if key == "winback":
        return {
            "trigger": {"type": "inactivity", "stage": "lapsed"},
            "reentry": "always",
            "steps": [
                _localised("Win-back (English)", "Win-back (简体中文)"),
                {"type": "wait", "days": 7},
                _localised("Win-back (English)", "Win-back (简体中文)"),
                {"type": "wait", "days": 14},
                {"type": "tag", "add": ["winback-unanswered"]},
                {
                    "type": "notify",
                    "channel": "app",
                    "to": ["role:marketer", "role:admin"],
                    "message": "{name} ({email}) did not come back after the win-back emails.",
                },
                {"type": "goal", "event": "ordered"},
            ],
        }
    if key == "cross_sell":
        _ensure_cross_sell_templates(acting_user)
        return {
            "trigger": {"type": "order"},
            "reentry": "always",
            "cap": {"messages": 1, "days": 14},
            "steps": [
                {"type": "wait", "days": 3},
                _localised("Cross-sell (English)", "Cross-sell (简体中文)"),
            ],
        }
    raise KeyError(key)
