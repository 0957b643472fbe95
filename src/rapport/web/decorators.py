"""``page``: what every UI view needs before its own four lines.

It sends anonymous visitors to the login page, and turns the services' errors into the HTTP
answers Django renders with our templates (403.html, 404.html), so a view can call
``require``, ``get_contact_for`` and friends without try/except.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase

from rapport.accounts.models import User
from rapport.errors import NotFound, PermissionDenied

View = Callable[..., HttpResponseBase]


def page(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from None
        except NotFound as error:
            raise Http404(error.message) from None

    return login_required(wrapper)


def acting_user(request: HttpRequest) -> User:
    """The signed-in user, typed for the services (``page`` has already required a login)."""
    user = request.user
    if not isinstance(user, User):
        raise DjangoPermissionDenied("Sign in first.")
    return user
