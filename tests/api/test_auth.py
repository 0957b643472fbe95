"""Who may call the API at all: bearer tokens (valid, revoked, wrong, missing) and sessions."""

from __future__ import annotations

import pytest
from django.test import Client

from rapport.accounts.models import ApiToken
from rapport.accounts.roles import Role
from rapport.accounts.services import create_api_token, revoke_api_token
from tests.api.conftest import ApiClient
from tests.factories import PASSWORD, make_contact, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts"
UNAUTHENTICATED = {"error": "Authentication required: send 'Authorization: Bearer <token>'."}


def _bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_authenticates_and_is_marked_used() -> None:
    user = make_user(Role.VIEWER)
    issued = create_api_token(user, "crm sync", acting_user=None)
    make_contact()

    response = _bearer(issued.token).get(URL)

    assert response.status_code == 200
    assert len(response.json()["items"]) == 1
    assert ApiToken.objects.get(pk=issued.id).last_used_at is not None


def test_a_revoked_token_is_refused() -> None:
    user = make_user(Role.OWNER)
    issued = create_api_token(user, "old", acting_user=None)
    revoke_api_token(issued.id, acting_user=user)

    response = _bearer(issued.token).get(URL)

    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_a_deactivated_users_token_is_refused() -> None:
    user = make_user(Role.OWNER, is_active=False)
    token = create_api_token(user, "left the company", acting_user=None).token
    assert _bearer(token).get(URL).status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer rpt_not-a-real-token", "Basic dXNlcjpwYXNz", "rpt_abc"],
)
def test_missing_or_wrong_credentials_are_401_on_reads_and_writes(header: str | None) -> None:
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": header} if header is not None else {}
    )
    for response in (
        client.get(URL),
        client.post(URL, {"email": "a@example.org"}, content_type="application/json"),
    ):
        assert response.status_code == 401, (header, response.content)
        assert response.json() == UNAUTHENTICATED


def test_a_signed_in_session_works_and_writes_need_the_csrf_token() -> None:
    user = make_user(Role.MARKETER)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)

    assert client.get(URL).status_code == 200
    refused = client.post(URL, {"email": "a@example.org"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]

    csrf = "x" * 32  # what the csrftoken cookie holds; the UI's htmx sends it back
    client.cookies["csrftoken"] = csrf
    created = client.post(
        URL,
        {"email": "a@example.org"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert created.status_code == 201, created.content


def test_a_token_needs_no_csrf_token(api: ApiClient) -> None:
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api.token}"})
    response = client.post(URL, {"email": "a@example.org"}, content_type="application/json")
    assert response.status_code == 201, response.content
