"""API test helpers: clients that send a user's bearer token, and JSON request shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import User
from rapport.accounts.roles import Role
from rapport.accounts.services import create_api_token
from tests.factories import make_user


class ApiClient(Client):
    """A test client that authenticates with a bearer token and speaks JSON."""

    def __init__(self, user: User | None, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(headers=headers)
        self.user = user
        self.token = token

    def post_json(self, path: str, data: Any) -> Any:
        return self.post(path, data, content_type="application/json")

    def patch_json(self, path: str, data: Any) -> Any:
        return self.patch(path, data, content_type="application/json")

    def put_json(self, path: str, data: Any) -> Any:
        return self.put(path, data, content_type="application/json")


def client_for(role: str | None) -> ApiClient:
    """A client acting as a new user of ``role``; None is an anonymous client."""
    if role is None:
        return ApiClient(None, None)
    user = make_user(role)
    return ApiClient(user, create_api_token(user, "tests", acting_user=None).token)


@pytest.fixture
def api_as(db: None) -> Callable[[str | None], ApiClient]:
    return client_for


@pytest.fixture
def api(db: None) -> ApiClient:
    """A client acting as an owner, who may do everything."""
    return client_for(Role.OWNER)
