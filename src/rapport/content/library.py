"""The starting templates (newsletter, welcome, birthday, promotion, win-back in English and
Chinese) shipped as files in ``library/`` and installed as ordinary templates on migrate, so a
new workspace can send something good on day one and copy them to make its own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapport.content.models import Template

LIBRARY_DIR = Path(__file__).with_name("library")


@dataclass(frozen=True, slots=True)
class LibraryTemplate:
    key: str
    kind: str
    language: str
    name: str
    subject: str
    preheader: str

    @property
    def html(self) -> str:
        return (LIBRARY_DIR / f"{self.key}.html").read_text(encoding="utf-8")


@cache
def library() -> tuple[LibraryTemplate, ...]:
    entries = json.loads((LIBRARY_DIR / "manifest.json").read_text(encoding="utf-8"))
    return tuple(LibraryTemplate(**entry) for entry in entries)


def ensure_library_templates() -> int:
    """Install the starting templates that are not there yet; returns how many were added.
    A template the user renamed or edited is theirs: it is recognised by its library key."""
    from rapport.content.coupons import ensure_builtin_series  # noqa: PLC0415 - cycle
    from rapport.content.services import TemplateContent, create_template  # noqa: PLC0415

    ensure_builtin_series()
    present = set(Template.objects.exclude(library_key="").values_list("library_key", flat=True))
    taken = set(Template.objects.values_list("name", flat=True))
    added = 0
    for entry in library():
        if entry.key in present:
            continue
        name = entry.name if entry.name not in taken else f"{entry.name} [{entry.key}]"
        create_template(
            name=name,
            kind=entry.kind,
            language=entry.language,
            library_key=entry.key,
            content=TemplateContent(
                subject=entry.subject, preheader=entry.preheader, html=entry.html
            ),
            acting_user=None,
        )
        added += 1
    return added
