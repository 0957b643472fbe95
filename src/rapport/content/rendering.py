"""Rendering a template version for one contact: compiled once, rendered per message.

The HTML part is rendered with autoescaping (a name of ``<script>`` stays text), the subject and
plain-text part without it. The text template was derived from the HTML when the version was
saved (derive.py), so a message costs two renders and no HTML parsing.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, pass_context
from jinja2.runtime import Context, Undefined

from rapport.content import formatting
from rapport.content.derive import html_to_text
from rapport.content.sandbox import (
    RapportSandbox,
    RenderLimitExceeded,
    end_budget,
    start_budget,
)
from rapport.errors import RapportError

_HEADER_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
MAX_SUBJECT_CHARS = 250


class RenderError(RapportError):
    """A template failed for one contact; says which part and line, and why."""

    def __init__(self, part: str, line: int | None, reason: str) -> None:
        where = f"{part}, line {line}" if line else part
        super().__init__(f"{where}: {reason}")
        self.part = part
        self.line = line


def _is_missing(value: Any) -> bool:
    return isinstance(value, Undefined) or value is None or value == ""


def fallback(value: Any, default_value: Any = "", boolean: bool = True) -> Any:
    """``default``: also stands in for empty values, which is what "Hi {{ name | default('friend')
    }}" means for a contact without a first name. ``boolean=False`` keeps Jinja's meaning."""
    missing = _is_missing(value) if boolean else isinstance(value, Undefined)
    return default_value if missing else value


def _locale(context: Context) -> str:
    contact = context.get("contact")
    if type(contact) is dict:  # what ContextBuilder gives; skips the slower Mapping check
        return str(contact.get("locale") or "")
    return str(contact.get("locale") or "") if isinstance(contact, Mapping) else ""


@pass_context
def _currency(context: Context, value: Any, currency: str = "") -> str:
    if _is_missing(value):
        return ""
    return formatting.money(value, str(currency or "USD").upper(), _locale(context))


@pass_context
def _number(context: Context, value: Any) -> str:
    return "" if _is_missing(value) else formatting.number(value, _locale(context))


@pass_context
def _percent(context: Context, value: Any) -> str:
    return "" if _is_missing(value) else formatting.percent(value, _locale(context))


@pass_context
def _date(context: Context, value: Any, style: str = "medium") -> str:
    if _is_missing(value) or not hasattr(value, "year"):
        return "" if _is_missing(value) else str(value)
    day = value.date() if hasattr(value, "date") and callable(value.date) else value
    return formatting.date(day, str(style), _locale(context))


@pass_context
def _datetime(context: Context, value: Any, style: str = "medium") -> str:
    if _is_missing(value) or not hasattr(value, "hour"):
        return "" if _is_missing(value) else str(value)
    return formatting.date_time(value, str(style), _locale(context))


OUR_FILTERS: dict[str, Callable[..., Any]] = {
    "default": fallback,
    "d": fallback,
    "currency": _currency,
    "number": _number,
    "percent": _percent,
    "date": _date,
    "datetime": _datetime,
}


def _environment(*, autoescape: bool) -> RapportSandbox:
    environment = RapportSandbox(
        autoescape=autoescape, trim_blocks=not autoescape, lstrip_blocks=not autoescape
    )
    environment.filters.update(OUR_FILTERS)  # bounded by their input: no guard needed
    return environment


HTML_ENVIRONMENT = _environment(autoescape=True)
TEXT_ENVIRONMENT = _environment(autoescape=False)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A version's parts, compiled once; ``render`` is what a send calls per contact."""

    subject: Template
    html: Template
    text: Template | None  # None: no text template could be derived, convert each message
    html_source: str

    @classmethod
    def compile(cls, *, subject: str, html: str, text: str) -> CompiledTemplate:
        return cls(
            subject=TEXT_ENVIRONMENT.from_string(subject),
            html=HTML_ENVIRONMENT.from_string(html),
            text=TEXT_ENVIRONMENT.from_string(text) if text.strip() else None,
            html_source=html,
        )

    def render(self, context: Mapping[str, Any]) -> RenderedMessage:
        """The three parts of one message, sharing one budget (one message, one allowance)."""
        variables = context if isinstance(context, dict) else dict(context)
        token = start_budget()
        try:
            subject = _render_in_budget(self.subject, variables, "subject")
            html = _render_in_budget(self.html, variables, "html")
            if self.text is None:
                text = html_to_text(html)  # slow (ms); only templates derive.py gave up on
            else:
                text = _BLANK_LINES.sub("\n\n", _render_in_budget(self.text, variables, "text"))
        finally:
            end_budget(token)
        return RenderedMessage(
            subject=header_text(subject)[:MAX_SUBJECT_CHARS], html=html, text=text
        )


def header_text(value: str) -> str:
    """One line, no control characters: a value can never add a header to the message."""
    return _HEADER_SPACE.sub(" ", value).strip()


def render_part(template: Template, context: Mapping[str, Any], part: str) -> str:
    """Render one part within a fresh budget of the sandbox's limits."""
    token = start_budget()
    try:
        return _render_in_budget(
            template, context if isinstance(context, dict) else dict(context), part
        )
    finally:
        end_budget(token)


def _render_in_budget(template: Template, variables: dict[str, Any], part: str) -> str:
    try:
        # Joined in C as Jinja does; the sandbox has charged every piece to the output budget.
        return "".join(template.root_render_func(template.new_context(variables)))
    except Exception:
        try:
            template.environment.handle_exception()  # re-raises with template line numbers
        except Exception as error:
            reason = str(error) if isinstance(error, RenderLimitExceeded) else _plain_reason(error)
            raise RenderError(part, _line_in_template(error.__traceback__), reason) from None
        raise  # pragma: no cover - handle_exception always raises


def _line_in_template(trace: types.TracebackType | None) -> int | None:
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _plain_reason(error: Exception) -> str:
    name = type(error).__name__
    message = str(error)
    if name == "SecurityError":
        return f"not allowed in emails ({message})"
    if name == "RecursionError":
        return "a macro calls itself without end"
    if name in {"TypeError", "ValueError", "ZeroDivisionError", "UndefinedError"}:
        return f"cannot be shown for this contact: {message}"
    return f"{name}: {message}"
