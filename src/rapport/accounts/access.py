"""Access checks in one place: every view, API handler and CLI command goes through here."""

from __future__ import annotations

from typing import Any

from rapport.accounts.roles import ROLE_PERMISSIONS, Perm
from rapport.errors import PermissionDenied


def permissions_of(user: Any) -> frozenset[Perm]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if not user.is_active:
        return frozenset()
    return ROLE_PERMISSIONS.get(user.role, frozenset())


def can(user: Any, perm: Perm) -> bool:
    return perm in permissions_of(user)


def require(user: Any, perm: Perm) -> None:
    """Raise ``PermissionDenied`` naming the missing permission."""
    if not can(user, perm):
        role = getattr(user, "role", "anonymous")
        raise PermissionDenied(f"Your role ({role}) may not do this ({perm.value}).")
