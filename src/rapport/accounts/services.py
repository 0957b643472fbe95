"""Writes for accounts: users, API tokens, the audit log. Every staff write records an entry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import ApiToken, AuditEntry, User
from rapport.accounts.roles import Role
from rapport.errors import InvalidInput, NotFound

TOKEN_PREFIX = "rpt_"  # noqa: S105 - a public prefix, not a secret


def record_audit(
    actor: User | None,
    action: str,
    *,
    target_type: str = "",
    target_id: object = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry; ``actor`` None means the system (CLI without a user, tasks)."""
    AuditEntry.objects.create(
        actor=actor,
        actor_label=actor.get_username() if actor else "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
    )


def find_user(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(f"No user named {username!r}.") from None


@transaction.atomic
def create_user(
    *,
    username: str,
    email: str,
    role: str,
    password: str,
    language: str = "en",
    acting_user: User | None,
) -> User:
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"A user named {username!r} exists already.", field="username")
    user = User(username=username, email=email, role=role, language=language)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password") from None
    user.set_password(password)
    user.is_staff = role in {Role.OWNER, Role.ADMIN}
    user.save()
    record_audit(
        acting_user,
        "user.create",
        target_type="user",
        target_id=user.pk,
        detail={"username": username, "role": role},
    )
    return user


def set_user_language(user: User, language: str) -> None:
    """Save the UI language on the user, so it follows them to every browser."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(f"Unknown language {language!r}.", field="language")
    if user.language == language:
        return
    before = user.language
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    record_audit(
        user,
        "user.language",
        target_type="user",
        target_id=user.pk,
        detail={"from": before, "to": language},
    )


def ensure_owner_account() -> tuple[str, str] | None:
    """Create the first account (role owner) when there is no user at all.

    Returns ``(username, password)`` the one time it creates it, so the caller can print the
    password once; it is never stored in clear.
    """
    with transaction.atomic():
        if User.objects.exists():
            return None
        password = secrets.token_urlsafe(12)
        user = User(username="admin", email="admin@localhost", role=Role.OWNER, is_staff=True)
        user.is_superuser = True
        user.set_password(password)
        user.save()
        record_audit(
            None,
            "user.create",
            target_type="user",
            target_id=user.pk,
            detail={"username": "admin", "role": Role.OWNER, "first_run": True},
        )
    return "admin", password


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str


def create_api_token(user: User, name: str, *, acting_user: User | None) -> IssuedToken:
    """Issue a bearer token for ``user``; the plain text is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name or "api", prefix=raw[:12], digest=_digest(raw)
    )
    record_audit(
        acting_user,
        "token.create",
        target_type="user",
        target_id=user.pk,
        detail={"token_id": token.pk, "name": token.name},
    )
    return IssuedToken(id=token.pk, name=token.name, token=raw)


def revoke_api_token(token_id: int, *, acting_user: User | None) -> None:
    updated = ApiToken.objects.filter(pk=token_id, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound(f"No active API token with id {token_id}.")
    record_audit(acting_user, "token.revoke", target_type="api_token", target_id=token_id)


def user_for_token(raw_token: str) -> User | None:
    """The active user a bearer token belongs to, or None; marks the token as used."""
    if not raw_token.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw_token), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute per token so a busy integration does not write per call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
