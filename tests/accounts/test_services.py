"""Users, the first owner account, API tokens, the audit log and the permission table."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from rapport.accounts.access import can, require
from rapport.accounts.models import AuditEntry, User
from rapport.accounts.roles import Perm, Role
from rapport.accounts.services import (
    create_api_token,
    create_user,
    ensure_owner_account,
    revoke_api_token,
    user_for_token,
)
from rapport.errors import InvalidInput, PermissionDenied
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_first_owner_is_created_once_with_a_password_shown_once():
    created = ensure_owner_account()
    assert created is not None
    username, password = created
    user = authenticate(username=username, password=password)
    assert user is not None and user.role == Role.OWNER
    assert ensure_owner_account() is None
    assert User.objects.count() == 1
    stored = User.objects.get().password
    assert password not in stored


def test_tokens_are_stored_hashed_and_can_be_revoked():
    user = make_user(Role.MARKETER)
    issued = create_api_token(user, "shop", acting_user=None)

    assert issued.token.startswith("rpt_")
    assert issued.token not in str(list(user.api_tokens.values()))
    assert user_for_token(issued.token) == user
    assert user_for_token(issued.token + "x") is None
    assert user_for_token("Bearer nonsense") is None

    revoke_api_token(issued.id, acting_user=user)
    assert user_for_token(issued.token) is None


def test_a_deactivated_users_token_stops_working():
    user = make_user(Role.ADMIN)
    issued = create_api_token(user, "ci", acting_user=None)
    user.is_active = False
    user.save()
    assert user_for_token(issued.token) is None


def test_create_user_validates_and_audits():
    owner = make_user(Role.OWNER)
    with pytest.raises(InvalidInput, match="Unknown role"):
        create_user(
            username="x", email="x@example.com", role="god", password="pw", acting_user=owner
        )
    with pytest.raises(InvalidInput) as weak:
        create_user(
            username="y", email="y@example.com", role=Role.VIEWER, password="123", acting_user=owner
        )
    assert weak.value.field == "password"
    user = create_user(
        username="z",
        email="z@example.com",
        role=Role.SUPPORT,
        password="a-long-enough-passphrase",
        acting_user=owner,
    )
    entry = AuditEntry.objects.get(action="user.create", target_id=str(user.pk))
    assert entry.actor == owner
    assert entry.detail["role"] == Role.SUPPORT


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, set(Perm)),
        (Role.ADMIN, set(Perm)),
        (
            Role.MARKETER,
            {
                Perm.VIEW_CONTACTS,
                Perm.EDIT_CONTACTS,
                Perm.EDIT_CATALOG,
                Perm.EDIT_CONTENT,
                Perm.MANAGE_JOURNEYS,
                Perm.IMPORT_DATA,
                Perm.EXPORT_DATA,
                Perm.VIEW_REPORTS,
            },
        ),
        (Role.SUPPORT, {Perm.VIEW_CONTACTS, Perm.EDIT_CONTACTS, Perm.VIEW_REPORTS}),
        (Role.VIEWER, {Perm.VIEW_CONTACTS, Perm.VIEW_REPORTS}),
    ],
)
def test_what_each_role_may_do(role, allowed):
    user = make_user(role)
    assert {perm for perm in Perm if can(user, perm)} == allowed
    for perm in set(Perm) - allowed:
        with pytest.raises(PermissionDenied, match=perm.value):
            require(user, perm)


def test_inactive_users_and_anonymous_may_do_nothing():
    user = make_user(Role.OWNER, is_active=False)
    assert not any(can(user, perm) for perm in Perm)
    assert not any(can(None, perm) for perm in Perm)


def test_createsuperuser_makes_an_owner():
    user = User.objects.create_superuser("root", "root@example.com", "a-long-passphrase")
    assert user.role == Role.OWNER
    assert can(user, Perm.MANAGE_USERS)
