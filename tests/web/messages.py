"""Finds the messages the UI translates, to check the Chinese catalogue covers every one.

A small stand-in for ``makemessages`` (GNU gettext is not installed): Django's
``{% translate %}`` and ``{% blocktranslate %}`` in templates, gettext calls in Python.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.extract import extract_python
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "rapport"
CATALOGUE = SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Apps may keep their own catalogue beside their code; together they must cover the UI.
CATALOGUES = (CATALOGUE, *sorted(SRC.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")))

# Where the UI's strings come from: its own code, and the model labels and choices it shows.
PYTHON_SOURCES = (
    "web/*.py",
    "web/views/*.py",
    "crm/models.py",
    "content/models.py",
    "campaigns/models.py",
    "campaigns/experiments.py",
    "accounts/models.py",
    "accounts/roles.py",
    "settings/__init__.py",
    # Apps added later: their pages, forms and models are UI too.
    "analytics/*.py",
    "automation/models.py",
    "automation/definition.py",
    "automation/services.py",
    "automation/recipes.py",
    "automation/views.py",
    "automation/forms.py",
    "tracking/models.py",
    "tracking/views.py",
    "tracking/forms.py",
    "delivery/models.py",
    "delivery/views.py",
    # Errors the segment builder and journey editor show: in the person's language.
    "segments/rules.py",
)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
}

_TRANSLATE = re.compile(r"""\{%\s*translate\s+(["'])(.*?)\1(?:\s+context\s+(["'])(.*?)\3)?""")
_BLOCK = re.compile(
    r"\{%\s*blocktranslate(?P<args>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktranslate\s*%\}", re.S
)
_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _block_text(text: str, trimmed: bool) -> str:
    text = _VAR.sub(lambda m: f"%({m.group(1)})s", text.replace("%", "%%"))
    return re.sub(r"\s*\n\s*", " ", text.strip()) if trimmed else text


def template_messages(text: str) -> Iterator[str | tuple[str, str]]:
    """Message ids in a template; a plural block gives ``(singular, plural)``."""
    for match in _TRANSLATE.finditer(text):
        yield match.group(2)
    for match in _BLOCK.finditer(text):
        trimmed = "trimmed" in match.group("args")
        singular, _, plural = match.group("body").partition("{% plural %}")
        if plural:
            yield (_block_text(singular, trimmed), _block_text(plural, trimmed))
        else:
            yield _block_text(singular, trimmed)


def python_messages(paths: Iterable[Path]) -> Iterator[str | tuple[str, str]]:
    for path in paths:
        with path.open("rb") as source:
            for _line, _func, message, _comments in extract_python(source, KEYWORDS, [], {}):
                # gettext gives a string; ngettext the tuple (singular, plural, None).
                if isinstance(message, str):
                    yield message
                elif message and message[0]:
                    singular, plural = str(message[0]), message[1] if len(message) > 1 else None
                    yield (singular, str(plural)) if plural else singular


def ui_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for template in sorted(SRC.glob("*/templates/**/*.html")):
        found.update(template_messages(template.read_text(encoding="utf-8")))
    paths = [p for pattern in PYTHON_SOURCES for p in sorted(SRC.glob(pattern))]
    found.update(python_messages(paths))
    return found


def compile_catalogues() -> None:
    """Compile the .po files as ``make install`` does, and drop catalogues Django cached."""
    spec = importlib.util.spec_from_file_location(
        "compile_messages", ROOT / "tools" / "compile_messages.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.compile_all()
    trans_real._translations = {}  # type: ignore[attr-defined]
    trans_real._default = None  # type: ignore[attr-defined]
