"""Template pages: list, editor with errors at a line, preview frame served safely."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client

from rapport.accounts.roles import Role
from rapport.content.models import Template
from tests.factories import make_contact

ClientFor = Callable[..., Client]

_FORM = {
    "name": "Autumn",
    "kind": "newsletter",
    "subject": "Hello {{ contact.first_name }}",
    "preheader": "",
    "from_name": "",
    "from_email": "",
    "reply_to": "",
    "html": "<p>Hi {{ contact.first_name | default('friend') }}</p><script>alert(1)</script>",
    "text": "",
}


def _frame_url(page: str) -> str:
    match = re.search(r'class="frame-desktop" src="([^"]+)"', page)
    assert match, "the editor shows a preview frame"
    return match.group(1)


def test_the_list_shows_the_starting_templates(client_for: ClientFor) -> None:
    page = client_for(Role.VIEWER).get("/templates/").content.decode()
    assert "Newsletter (English)" in page
    assert "Win-back (简体中文)" in page
    assert "New template" not in page  # viewers cannot edit


def test_a_marketer_creates_a_template_and_previews_it_as_a_contact(
    client_for: ClientFor,
) -> None:
    client = client_for(Role.MARKETER)
    response = client.post("/templates/new", _FORM)
    assert response.status_code == 302
    template = Template.objects.get(name="Autumn")
    contact = make_contact(given_name="Mei<b>")

    page = client.get(f"/templates/{template.pk}/?contact={contact.pk}").content.decode()
    frame = Client().get(_frame_url(page))  # no session: the signed URL is the key

    assert frame.status_code == 200
    assert "Hi Mei&lt;b&gt;" in frame.content.decode()
    assert not frame.cookies
    policy = frame["Content-Security-Policy"]
    assert "sandbox" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert frame["Cache-Control"] == "no-store"
    assert 'sandbox=""' in page


def test_a_tampered_or_foreign_preview_url_shows_nothing(client_for: ClientFor) -> None:
    client = client_for(Role.MARKETER)
    template = Template.objects.get(name="Newsletter (English)")
    url = _frame_url(client.get(f"/templates/{template.pk}/").content.decode())
    forged = url.replace(url.split("/")[-2], url.split("/")[-2][:-3] + "abc")
    response = Client().get(forged)
    assert response.status_code == 404
    assert "expired" in response.content.decode()


def test_a_template_error_is_shown_with_its_line_and_nothing_is_saved(
    client_for: ClientFor,
) -> None:
    client = client_for(Role.MARKETER)
    form = {**_FORM, "html": "<p>ok</p>\n<p>{{ contact.frist_name }}</p>"}
    page = client.post("/templates/new", form).content.decode()
    assert "html, line 2" in page
    assert "contact.frist_name" in page
    assert not Template.objects.filter(name="Autumn").exists()


def test_saving_an_edit_adds_a_version(client_for: ClientFor) -> None:
    client = client_for(Role.MARKETER)
    template = Template.objects.get(name="Welcome (English)")
    form = {**_FORM, "name": template.name, "kind": "welcome", "html": "<p>New welcome</p>"}
    assert client.post(f"/templates/{template.pk}/", form).status_code == 302
    template.refresh_from_db()
    assert template.current is not None
    assert template.current.number == 2
    assert template.versions.count() == 2


def test_support_cannot_save_templates(client_for: ClientFor) -> None:
    client = client_for(Role.SUPPORT)
    template = Template.objects.get(name="Welcome (English)")
    form = {**_FORM, "name": template.name, "kind": "welcome"}
    assert client.post(f"/templates/{template.pk}/", form).status_code == 403
    assert client.post("/templates/new", form).status_code == 403


def test_preview_as_finds_contacts(client_for: ClientFor) -> None:
    make_contact(email="li.na@example.com", given_name="Na", family_name="Li")
    client = client_for(Role.VIEWER)
    template = Template.objects.get(name="Welcome (English)")
    page = client.get(f"/templates/{template.pk}/contacts?q=li.na").content.decode()
    assert "li.na@example.com" in page
    assert f"/templates/{template.pk}/?contact=" in page
