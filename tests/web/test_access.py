"""Every page for every role: shown, refused with 403, or sent to the login page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from rapport.accounts.roles import Role
from rapport.crm.models import ImportJob
from tests.factories import make_contact

ALL_ROLES = [r.value for r in Role]
IMPORTERS = {Role.OWNER.value, Role.ADMIN.value, Role.MARKETER.value}


def _pages(contact_id: int, job_id: int) -> dict[str, set[str]]:
    """URL -> roles that may open it."""
    everyone = set(ALL_ROLES)
    return {
        "/": everyone,
        "/contacts/": everyone,
        f"/contacts/{contact_id}/": everyone,
        "/account/password/": everyone,
        "/contacts/export.csv": IMPORTERS,
        "/imports/": IMPORTERS,
        f"/imports/{job_id}/row": IMPORTERS,
    }


@pytest.fixture
def targets(db: None) -> tuple[int, int]:
    job = ImportJob.objects.create(kind="contacts", file_path="/nowhere.csv", original_name="a.csv")
    return make_contact().pk, job.pk


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_sees_its_pages_and_is_refused_the_others(
    role: str, client_for: Callable[[str], Client], targets: tuple[int, int]
) -> None:
    client = client_for(role)
    for url, allowed in _pages(*targets).items():
        status = client.get(url).status_code
        assert status == (200 if role in allowed else 403), (role, url, status)


def test_anonymous_visitors_are_sent_to_the_login_page(
    client: Client, targets: tuple[int, int]
) -> None:
    for url in _pages(*targets):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
    assert client.get("/login/").status_code == 200


def test_buttons_the_role_may_not_use_are_hidden(client_for: Callable[[str], Client]) -> None:
    viewer = client_for(Role.VIEWER).get("/contacts/").content.decode()
    marketer = client_for(Role.MARKETER).get("/contacts/").content.decode()
    assert "/contacts/export.csv" not in viewer
    assert "/imports/" not in viewer
    assert "/contacts/export.csv" in marketer
    assert "/imports/" in marketer


def test_403_page_names_the_missing_permission(client_for: Callable[[str], Client]) -> None:
    response = client_for(Role.VIEWER).get("/imports/")
    assert response.status_code == 403
    assert "data.import" in response.content.decode()


def test_unknown_contact_is_404(client_for: Callable[[str], Client]) -> None:
    assert client_for(Role.VIEWER).get("/contacts/999999/").status_code == 404


def test_login_logout_and_password_change(
    client: Client, client_for: Callable[[str], Client]
) -> None:
    owner = client_for(Role.OWNER)
    user = owner.user  # type: ignore[attr-defined]
    response = owner.post(
        "/account/password/",
        {
            "old_password": "correct-horse-battery-staple",
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert owner.post("/logout/").status_code == 302
    assert owner.get("/").status_code == 302
    response = client.post(
        "/login/", {"username": user.username, "password": "a-new-long-passphrase-42"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
