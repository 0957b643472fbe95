"""Answering an open or a click: check the token, queue the hit, answer at once.

Shared by the lean WSGI path (``tracking.wsgi``, what ``rapport web`` serves) and the Django
views (the test client, ``runserver``), so both behave alike. A hit costs one HMAC check and,
for a click, one dictionary look-up of the link's target (read from the database once per
link per process). The target comes only from ``tracking.Link``; a token whose link belongs to
another campaign, a forged or altered token, or a link that no longer exists gets a 404 and
records nothing: there is no URL in the request to redirect to, so no open redirect.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, connection

from rapport.tracking.models import Link
from rapport.tracking.recorder import Hit, recorder
from rapport.tracking.tokens import CLICK, OPEN, read_token

# The smallest transparent GIF (43 bytes).
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
_NO_STORE = ("Cache-Control", "no-store, no-cache, must-revalidate, private")
_GIF_HEADERS = [("Content-Type", "image/gif"), ("Content-Length", str(len(PIXEL))), _NO_STORE]
_NOT_FOUND = b"This link is not valid.\n"
_MAX_LINKS_CACHED = 100_000


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


NOT_FOUND = Answer(
    404,
    [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_NOT_FOUND)))],
    _NOT_FOUND,
)
PIXEL_ANSWER = Answer(200, _GIF_HEADERS, PIXEL)

_links: dict[int, tuple[int, str]] = {}
_links_lock = threading.Lock()


def link_target(link_id: int) -> tuple[int, str] | None:
    """(campaign id, URL) of a link; cached, since a link never changes once made."""
    found = _links.get(link_id)
    if found is not None:
        return found
    for attempt in (1, 2):
        try:
            row = Link.objects.filter(pk=link_id).values_list("campaign_id", "url").first()
            break
        except DatabaseError:
            connection.close()  # a connection the database dropped: one fresh try
            if attempt == 2:
                raise
    if row is None:
        return None
    with _links_lock:
        if len(_links) >= _MAX_LINKS_CACHED:
            _links.clear()
        _links[link_id] = row
    return row


def answer(method: str, kind: str, token_text: str, user_agent: str, ip: str) -> Answer:
    """The response to ``/t/<kind>/<token>``; queues the hit when the token is genuine."""
    if method not in ("GET", "HEAD"):
        return NOT_FOUND
    if kind not in (OPEN, CLICK):
        return NOT_FOUND
    token = read_token(kind, token_text)
    if token is None:
        return NOT_FOUND
    if kind == OPEN:
        recorder.record(Hit(OPEN, token, time.time(), method, user_agent, ip))
        return PIXEL_ANSWER
    target = link_target(token.link)
    if target is None or target[0] != token.campaign:
        return NOT_FOUND  # a link of another campaign, or of a campaign deleted since
    url = target[1]
    recorder.record(Hit(CLICK, token, time.time(), method, user_agent, ip, url))
    return Answer(
        302,
        [("Location", url), ("Content-Length", "0"), _NO_STORE, ("Referrer-Policy", "no-referrer")],
        b"",
    )
