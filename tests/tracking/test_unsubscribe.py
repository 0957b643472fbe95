"""One-click unsubscribe (RFC 8058): a cookieless POST unsubscribes at once with a 200; a GET
never does; the token cannot be forged or moved to another contact."""

from __future__ import annotations

import pytest
from django.test import Client

from rapport.content.links import contact_link, make_token
from rapport.crm.models import Contact, ContactStatus, Event, EventType
from rapport.delivery.models import Suppression
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _path(contact: Contact, source: str = "campaign:7") -> str:
    return "/e/unsubscribe/" + contact_link("unsubscribe", contact.pk, source).rsplit("/", 1)[1]


@pytest.mark.parametrize("multipart", [False, True])
def test_a_cookieless_one_click_post_unsubscribes_at_once(multipart: bool) -> None:
    contact = make_contact(status=ContactStatus.SUBSCRIBED)
    client = Client(enforce_csrf_checks=True)
    body = {"List-Unsubscribe": "One-Click"}
    response = (
        client.post(_path(contact), body)
        if multipart
        else client.post(
            _path(contact), "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    )  # fmt: skip

    assert response.status_code == 200
    assert not response.cookies
    contact.refresh_from_db()
    assert contact.status == ContactStatus.UNSUBSCRIBED
    assert Suppression.objects.filter(email=contact.email, reason="unsubscribed").exists()
    event = Event.objects.get(contact=contact, type=EventType.UNSUBSCRIBED)
    assert event.campaign_id == 7
    again = client.post(_path(contact), body)
    assert again.status_code == 200
    assert Event.objects.filter(contact=contact, type=EventType.UNSUBSCRIBED).count() == 1


def test_a_get_shows_the_button_and_changes_nothing() -> None:
    contact = make_contact(status=ContactStatus.SUBSCRIBED, locale="zh-Hans")
    response = Client().get(_path(contact))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="confirm"' in page and '<form method="post"' in page
    assert "退订" in page
    contact.refresh_from_db()
    assert contact.status == ContactStatus.SUBSCRIBED
    assert "script-src" not in response["Content-Security-Policy"]


def test_forged_and_moved_tokens_are_refused() -> None:
    victim = make_contact(status=ContactStatus.SUBSCRIBED)
    attacker = make_contact(status=ContactStatus.SUBSCRIBED)
    token = make_token("unsubscribe", attacker.pk, "campaign:7")
    encoded, _, signature = token.partition(".")
    moved = make_token("unsubscribe", victim.pk, "campaign:7").partition(".")[0] + "." + signature
    view_token = make_token("view", victim.pk, "campaign:7")  # a link of another kind
    for bad in (moved, view_token, encoded + ".AAAA", "garbage"):
        assert Client().post(f"/e/unsubscribe/{bad}").status_code == 404
    victim.refresh_from_db()
    assert victim.status == ContactStatus.SUBSCRIBED
