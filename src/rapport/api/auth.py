"""Bearer tokens for integrations, the session for the UI's own calls."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from rapport.accounts.services import user_for_token
from rapport.errors import PermissionDenied


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        return user


class StaffSessionAuth(SessionAuth):
    """The signed-in user's session, with Django's CSRF check on writes.

    The check runs only when someone is signed in: a request with neither a session nor a
    valid token is unauthenticated (401), which is what an integration with a wrong or
    revoked token needs to hear, rather than a CSRF failure (403).
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError:
            raise PermissionDenied(
                "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken "
                "header, or authenticate with 'Authorization: Bearer <token>' instead."
            ) from None


AUTH = [TokenAuth(), StaffSessionAuth()]
