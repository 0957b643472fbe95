"""Tracking switches in the UI: the workspace's section of Settings → Sending (admins), and
one contact's switch on their page (whoever may edit contacts)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.crm.models import Contact
from rapport.tracking.models import TrackingSettings
from tests.factories import make_contact

ClientFor = Callable[..., Client]
FIELDS = {"enabled": "on", "click_window_hours": 72, "attribute_opens": "", "open_window_hours": 12}


def test_admins_set_tracking_and_the_attribution_windows(client_for: ClientFor) -> None:
    client = client_for(Role.ADMIN)
    page = client.get("/settings/sending/").content.decode()
    assert 'id="tracking-form"' in page
    assert "last touch" in page  # the rule is shown where the windows are set

    response = client.post("/settings/sending/tracking", FIELDS)

    assert response.status_code == 302
    choices = TrackingSettings.current()
    assert (choices.enabled, choices.click_window_hours) == (True, 72)
    assert (choices.attribute_opens, choices.open_window_hours) == (False, 12)
    assert AuditEntry.objects.filter(action="tracking_settings.update").exists()
    client.post("/settings/sending/tracking", {**FIELDS, "enabled": ""})
    assert TrackingSettings.current().enabled is False


def test_a_window_out_of_range_is_named_and_nothing_changes(client_for: ClientFor) -> None:
    client = client_for(Role.OWNER)
    response = client.post("/settings/sending/tracking", {**FIELDS, "click_window_hours": 0})
    assert response.status_code == 200
    assert "greater than or equal to 1" in response.content.decode()
    assert not TrackingSettings.objects.exists()


def test_marketers_may_not_change_tracking_settings(client_for: ClientFor) -> None:
    assert client_for(Role.MARKETER).post("/settings/sending/tracking", FIELDS).status_code == 403
    assert not TrackingSettings.objects.exists()


def test_a_contact_is_untracked_from_their_page_by_those_who_edit_contacts(
    client_for: ClientFor,
) -> None:
    contact = make_contact()
    support = client_for(Role.SUPPORT)
    page = support.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'id="tracking-switch"' in page

    response = support.post(f"/contacts/{contact.pk}/tracking", {"tracking": "off"})

    assert response.status_code == 302
    assert Contact.objects.get(pk=contact.pk).tracking is False
    page = support.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Track opens and clicks again" in page
    support.post(f"/contacts/{contact.pk}/tracking", {"tracking": "on"})
    assert Contact.objects.get(pk=contact.pk).tracking is True

    viewer = client_for(Role.VIEWER)
    assert 'id="tracking-switch"' not in viewer.get(f"/contacts/{contact.pk}/").content.decode()
    assert viewer.post(f"/contacts/{contact.pk}/tracking", {"tracking": "off"}).status_code == 403
    assert Contact.objects.get(pk=contact.pk).tracking is True
