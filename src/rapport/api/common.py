"""What every router shares: the error body, cursor pages, and the acting user."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema

from rapport.accounts.models import User
from rapport.crm.queries import Page
from rapport.errors import InvalidInput, PermissionDenied


class ErrorOut(Schema):
    """Every error answer: what was wrong, and which input field, when one is to blame."""

    error: str
    field: str | None = None
    details: list[dict[str, Any]] | None = None


# The error statuses an operation may answer with, for the OpenAPI document; the bodies come
# from the exception handlers in ``rapport.api.urls``.
ERRORS: dict[frozenset[int], type[ErrorOut]] = {frozenset({400, 401, 403, 404, 409, 422}): ErrorOut}


class PageQuery(Schema):
    """``?cursor=…&limit=N``: the first page has no cursor; each page names the next one."""

    cursor: str | None = Field(
        None, description="next_cursor of the previous page, unchanged; omit for the first page"
    )
    limit: int = Field(50, ge=1, le=500, description="items per page (1 to 500)")


# The cursor is opaque to clients so that we may change what it holds (say, to a
# (placed_at, id) pair) without breaking integrations that store it.
_CURSOR_PREFIX = "k1:"


def encode_cursor(after: int | None) -> str | None:
    if after is None:
        return None
    raw = f"{_CURSOR_PREFIX}{after}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The last id of the previous page, or None for the first page."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(_CURSOR_PREFIX):
            return int(text.removeprefix(_CURSOR_PREFIX))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput(
        f"cursor {cursor!r} is not one this API gave out; pass next_cursor of the previous "
        "page unchanged, or leave it out for the first page.",
        field="cursor",
    )


def page_body(page: Page) -> dict[str, Any]:
    """A keyset page as the API returns it: ``{"items": [...], "next_cursor": ...}``."""
    return {"items": page.items, "next_cursor": encode_cursor(page.next_cursor)}


def acting_user(request: HttpRequest) -> User:
    """The user that the token or the session authenticated (the API's auth ran already)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise PermissionDenied("This call needs a signed-in user or a user's API token.")
    return user
