"""Tracking added to a message at send time: links rewritten to signed click URLs in the HTML
and plain-text parts, and an open pixel at the end of the HTML body.

One ``MessageTracker`` lives in each campaign sender. It knows the campaign's links (loaded
once, then created as new URLs appear: a recommended product differs per contact, so there
is one row per distinct URL, never one per message) and per batch which contacts turned
tracking off, whose messages go out untouched. Not rewritten: our own recipient links
(unsubscribe, preferences, view online under ``/e/``: they must work even where a gateway
blocks tracking domains, and they are signed already), ``mailto:``, ``tel:``, ``#`` anchors
and anything that is not http(s). A message costs a regex pass per part and one HMAC per
distinct link in it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import replace

from django.conf import settings

from rapport.content.rendering import RenderedMessage
from rapport.crm.models import Contact
from rapport.tracking.models import Link, TrackingSettings
from rapport.tracking.tokens import CLICK, OPEN, HitToken, hit_url, signer

_HTML_LINK = re.compile(r"""(<[aA]\s[^>]*?\b[hH][rR][eE][fF]\s*=\s*)(["'])(.*?)\2""", re.DOTALL)
_TEXT_LINK = re.compile(r"""https?://[^\s<>"'()\[\]]+""", re.IGNORECASE)
_TRAILING = ".,;:!?"
_MANY_URLS = 50_000
_PIXEL = (
    '<img src="{url}" width="1" height="1" alt="" '
    'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
)


class MessageTracker:
    def __init__(self, campaign_id: int, *, base_url: str | None = None) -> None:
        self.campaign_id = campaign_id
        self.base_url = settings.BASE_URL if base_url is None else base_url
        self._own_links = f"{self.base_url}/e/"
        self._click_base = f"{self.base_url}/t/{CLICK}/"
        self._sign = signer(CLICK)
        self._unescaped: dict[str, str] = {}  # an href as written: the URL it means
        self._links: dict[str, int] = dict(
            Link.objects.filter(campaign_id=campaign_id).values_list("url", "pk")
        )
        self._contacts: dict[int, int] = {}  # delivery: contact, of the batch being built

    def prepare(self, rows: Iterable[tuple[int, int]]) -> None:
        """Take the next batch's (delivery, contact) pairs, minus the contacts who turned
        tracking off (one query per batch)."""
        contacts = dict(rows)
        untracked = set(
            Contact.objects.filter(pk__in=list(contacts.values()), tracking=False).values_list(
                "pk", flat=True
            )
        )
        self._contacts = {d: c for d, c in contacts.items() if c not in untracked}

    def apply(self, message: RenderedMessage, *, delivery: int, sent_at: int) -> RenderedMessage:
        """The message with tracking; as it was for a contact who turned tracking off."""
        contact = self._contacts.get(delivery)
        if contact is None:
            return message
        made: dict[str, str] = {}  # the part's URL: its tracked URL (the same in both parts)
        # The token's fields around the link id, formatted once per message (tokens.py).
        head = f"{delivery}.{contact}.{self.campaign_id}."
        tail = f".{sent_at}"
        click_base = self._click_base
        own_links = self._own_links
        unescaped = self._unescaped
        sign = self._sign

        def tracked(url: str) -> str | None:
            found = made.get(url)
            if found is not None:
                return found
            if not url[:8].lower().startswith(("http://", "https://")):
                return None  # mailto:, tel:, #anchors, relative and template-less links
            if url.startswith(own_links):
                return None
            payload = f"{head}{self._link_id(url)}{tail}"
            found = made[url] = f"{click_base}{payload}.{sign(payload)}"
            return found

        def in_html(match: re.Match[str]) -> str:
            raw = match.group(3)
            url = unescaped.get(raw)
            if url is None:
                url = (html.unescape(raw) if "&" in raw else raw).strip()
                if len(unescaped) < _MANY_URLS:
                    unescaped[raw] = url
            new = tracked(url)
            return (
                match.group(0)
                if new is None
                else f"{match.group(1)}{match.group(2)}{new}{match.group(2)}"
            )

        def in_text(match: re.Match[str]) -> str:
            found = match.group(0)
            url = found.rstrip(_TRAILING)
            new = tracked(url)
            return found if new is None else new + found[len(url) :]

        body = _HTML_LINK.sub(in_html, message.html)
        pixel = _PIXEL.format(
            url=hit_url(OPEN, HitToken(delivery, contact, self.campaign_id, 0, sent_at),
                        base_url=self.base_url)
        )  # fmt: skip
        end = body.rfind("</body>")
        if end < 0:
            end = body.lower().rfind("</body>")
        body = body[:end] + pixel + body[end:] if end >= 0 else body + pixel
        return replace(message, html=body, text=_TEXT_LINK.sub(in_text, message.text))

    def _link_id(self, url: str) -> int:
        """The campaign's row for this URL, made the first time any worker meets it."""
        found = self._links.get(url)
        if found is None:
            digest = hashlib.sha256(url.encode()).hexdigest()
            Link.objects.bulk_create(
                [Link(campaign_id=self.campaign_id, url=url, digest=digest)],
                ignore_conflicts=True,  # another worker made it first
            )
            found = Link.objects.get(campaign_id=self.campaign_id, digest=digest).pk
            self._links[url] = found
        return found


def tracker_for(campaign_id: int) -> MessageTracker | None:
    """The campaign's tracker, or None when the workspace does not track at all."""
    if not TrackingSettings.current().enabled:
        return None
    return MessageTracker(campaign_id)
