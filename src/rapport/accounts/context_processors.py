from __future__ import annotations

from django.http import HttpRequest

from rapport.accounts.access import permissions_of


def permissions(request: HttpRequest) -> dict[str, object]:
    """``perms_rapport`` in templates: the set of permission names the user holds."""
    return {"perms_rapport": {p.value for p in permissions_of(getattr(request, "user", None))}}
