"""Every page of the UI in a real browser, in both languages: it answers 200 and the console
stays free of errors. The strict Content-Security-Policy (no inline scripts or styles) only
shows its teeth in a browser, as a console error: an inline ``style`` attribute once left a
journey's step tree flat without any server-side test noticing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

from rapport.accounts.roles import Role
from rapport.automation.recipes import recipe_definition
from rapport.automation.services import save_journey
from rapport.campaigns.services import create_campaign
from rapport.content.models import Template
from rapport.delivery.models import Suppression, SuppressionReason
from rapport.segments.models import Segment
from tests.e2e.conftest import console_errors, sign_in
from tests.factories import make_contact, make_order, make_user


def _pages() -> list[str]:
    contact = make_contact(given_name="Wei", family_name="Li", locale="zh-hans")
    make_order(contact)
    Suppression.objects.create(email=contact.email, reason=SuppressionReason.HARD_BOUNCE)
    segment = Segment.objects.order_by("pk").first()
    assert segment is not None  # the built-in ones
    template = Template.objects.get(name="Newsletter (English)")
    campaign = create_campaign(
        name="Tour", template=template.name, audience=[segment.pk], acting_user=None
    )
    journey = save_journey(recipe_definition("welcome"), name="Tour journey", acting_user=None)
    return [
        "/",
        "/contacts/",
        f"/contacts/{contact.pk}/",
        "/contacts/suppressions/",
        "/imports/",
        "/segments/",
        "/segments/new",
        f"/segments/{segment.pk}/",
        "/templates/",
        "/templates/new",
        f"/templates/{template.pk}/",
        "/campaigns/",
        "/campaigns/new",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/report/",
        "/campaigns/frequency-tests/",
        "/journeys/",
        "/journeys/new",
        f"/journeys/{journey.pk}/",
        f"/journeys/{journey.pk}/report/",
        "/settings/sending/",
        "/outbox/",
        "/account/password/",
    ]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_loads_without_errors_under_the_csp(
    browser: Browser, live_server: Any, language: str
) -> None:
    pages = _pages()
    user = make_user(Role.OWNER, language=language)
    page = sign_in(browser, live_server.url, user.username)
    errors = console_errors(page)
    page.wait_for_url(f"{live_server.url}/")

    statuses = {}
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        page.wait_for_load_state("networkidle")
        statuses[path] = response.status

    assert statuses == dict.fromkeys(pages, 200)
    assert errors == []
