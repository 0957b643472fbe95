"""The footer the law asks of marketing email, for templates that do not show it themselves.

Every marketing message must carry a visible way to unsubscribe and the sender's postal
address (CAN-SPAM, GDPR/PECR, China's advertising rules). A template that shows
``{{ unsubscribe_url }}`` and ``{{ workspace.address }}`` keeps its own design; one that
misses either gets this small footer added, so the rule holds whoever wrote the template.
The footer is built once per campaign and language; per message only the link is filled in.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from django.utils import translation
from django.utils.translation import gettext as _

from rapport.content.rendering import RenderedMessage

_LINK = "\x00link\x00"


@dataclass(frozen=True, slots=True)
class Footer:
    html: str
    text: str

    def add_to(self, message: RenderedMessage, unsubscribe_url: str) -> RenderedMessage:
        block = self.html.replace(_LINK, html.escape(unsubscribe_url, quote=True))
        end = message.html.lower().rfind("</body>")
        body = message.html[:end] + block + message.html[end:] if end >= 0 else message.html + block
        return replace(
            message,
            html=body,
            text=f"{message.text}\n\n{self.text.replace(_LINK, unsubscribe_url)}",
        )


def footer_for(
    language: str, *, organisation: str, postal_address: str, with_link: bool, with_address: bool
) -> Footer:
    """The footer in a contact's language (English or Chinese), with what the template lacks."""
    with translation.override("zh-hans" if language.lower().startswith("zh") else "en"):
        link_label = _("Unsubscribe")
        why = _("You receive this email from %(organisation)s.") % {"organisation": organisation}
    lines_html, lines_text = [], []
    if with_address:
        lines_html.append(html.escape(f"{organisation} · {postal_address}".replace("\n", ", ")))
        lines_text.append(f"{organisation} · {postal_address}".replace("\n", ", "))
    if with_link:
        lines_html.append(f'{html.escape(why)} <a href="{_LINK}" style="color:#6b7280">'
                          f"{html.escape(link_label)}</a>")  # fmt: skip
        lines_text.append(f"{why} {link_label}: {_LINK}")
    style = "font:12px/1.5 Helvetica,Arial,sans-serif;color:#6b7280;text-align:center;padding:16px"
    return Footer(
        html=f'<div style="{style}">{"<br>".join(lines_html)}</div>', text="\n".join(lines_text)
    )
