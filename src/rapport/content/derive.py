"""What is derived from a template once per version, so that no message pays for it: CSS
inlined into the HTML (email clients drop ``<style>`` blocks), the hidden preheader placed, and
the plain-text part made from the HTML with html2text (about 3 ms a message if done per send).

Both tools parse HTML, and a Jinja template is not HTML yet: a ``{% for %}`` between table rows
would be moved out of the table by an HTML parser. So every Jinja tag is swapped for an inert
placeholder first (an HTML comment between elements, a plain word inside tags and text) and put
back afterwards; if any placeholder did not survive, the HTML is kept as written, with a warning.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import css_inline
import html2text
from jinja2 import Environment, TemplateSyntaxError

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_OPEN_TAG = re.compile(r"<[A-Za-z/!]")
_RAW_TEXT = ("title", "style", "script", "textarea")
_INLINER = css_inline.CSSInliner(
    keep_style_tags=False,
    keep_at_rules=True,  # @media rules stay in a <style> block for phones
    load_remote_stylesheets=False,  # a template must not make the server fetch URLs
)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)")


@dataclass(slots=True)
class Protected:
    text: str
    placeholders: dict[str, str] = field(default_factory=dict)

    def restore(self, derived: str, *, may_drop: bool = False) -> str | None:
        """Put the Jinja tags back; None when a placeholder was duplicated, or lost while
        ``may_drop`` is false. A dropped tag (in an image's alt text, say) is fine only when
        the result still parses, which the caller checks."""
        for placeholder in self.placeholders:
            count = derived.count(placeholder)
            if count > 1 or (count == 0 and not may_drop):
                return None
        return re.sub(
            r"<!--(RPTJ\d{5}X)-->|RPTJ\d{5}X",
            lambda m: self.placeholders[m.group(1) or m.group(0)],
            derived,
        )


def protect(source: str, *, comments: bool = True) -> Protected:
    """Replace Jinja tags with placeholders an HTML parser leaves alone."""
    protected = Protected("")
    pieces: list[str] = []
    position = 0
    for number, match in enumerate(_JINJA.finditer(source)):
        placeholder = f"RPTJ{number:05d}X"
        tag = match.group(0)
        protected.placeholders[placeholder] = tag
        before = source[position : match.start()]
        pieces.append(before)
        between_elements = (
            comments
            and not tag.startswith("{{")
            and not _inside_tag_or_raw_text(source, match.start())
        )
        pieces.append(f"<!--{placeholder}-->" if between_elements else placeholder)
        position = match.end()
    pieces.append(source[position:])
    protected.text = "".join(pieces)
    return protected


def _inside_tag_or_raw_text(source: str, index: int) -> bool:
    last_open = max((m.start() for m in _OPEN_TAG.finditer(source, 0, index)), default=-1)
    if last_open > source.rfind(">", 0, index):
        return True
    lowered = source[:index].lower()
    return any(lowered.rfind(f"<{name}") > lowered.rfind(f"</{name}") for name in _RAW_TEXT)


@dataclass(frozen=True, slots=True)
class Derived:
    html: str
    text: str
    warnings: tuple[str, ...]


def derive(html_source: str, preheader: str, text_override: str) -> Derived:
    warnings: list[str] = []
    inlined = _inline_css(html_source, warnings)
    text = text_override or html_to_text_template(html_source, warnings)
    return Derived(_with_preheader(inlined, preheader), text, tuple(warnings))


def _inline_css(source: str, warnings: list[str]) -> str:
    if "<style" not in source.lower():
        return source
    protected = protect(source)
    try:
        restored = protected.restore(_INLINER.inline(protected.text))
    except ValueError as error:
        warnings.append(f"The CSS could not be inlined ({error}); the HTML is sent as written.")
        return source
    if restored is None:
        warnings.append(
            "The CSS could not be inlined around the template tags; the HTML is sent as "
            "written, so some email clients may ignore the <style> block."
        )
        return source
    return restored


def html_to_text_template(source: str, warnings: list[str]) -> str:
    """The plain-text part as a template: html2text over the HTML with Jinja kept intact."""
    protected = protect(_without_head(source), comments=False)
    restored = protected.restore(_convert(protected.text), may_drop=True)
    if restored is None or not _parses(restored):
        warnings.append(
            "The plain-text part is made from each rendered message, which is slow for large "
            "sends; write one by hand to avoid it."
        )
        return ""
    return _tidy(restored)


def html_to_text(rendered_html: str) -> str:
    """The plain-text part of one rendered message (the slow path, about 3 ms)."""
    return _tidy(_convert(_without_head(rendered_html)))


def _without_head(source: str) -> str:
    return re.sub(r"<head\b.*?</head>", "", source, flags=re.DOTALL | re.IGNORECASE)


def _convert(html_text: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # values vary per contact; wrapping would cut them at random
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True
    converter.ignore_tables = True  # layout tables, not data: their cells read as paragraphs
    return _MARKDOWN_LINK.sub(_plain_link, converter.handle(html_text))


def _tidy(text: str) -> str:
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines).strip() + "\n"


def _parses(source: str) -> bool:
    try:
        Environment(autoescape=True).parse(source)  # parsing only: nothing is rendered
    except TemplateSyntaxError:
        return False
    return True


def _plain_link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if not label:
        return ""  # a linked picture: the link is repeated beside it in text anyway
    if label == url:
        return url
    return f"{label}: {url}"


_PREHEADER_STYLE = (
    "display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;"
    "overflow:hidden;mso-hide:all"
)


def _with_preheader(source: str, preheader: str) -> str:
    """Hide the preheader at the top of the body, where inbox previews look for it."""
    if not preheader.strip():
        return source
    protected = protect(preheader, comments=False)
    escaped = protected.restore(html.escape(protected.text, quote=False)) or ""
    block = f'<div style="{_PREHEADER_STYLE}">{escaped}</div>'
    body = re.search(r"<body[^>]*>", source, flags=re.IGNORECASE)
    if body is None:
        return block + source
    return source[: body.end()] + block + source[body.end() :]
