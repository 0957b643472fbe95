"""The list really stops mail: through the real pipeline to a real SMTP server, a blocked,
bounced or domain-blocked contact gets nothing, and gets mail again once the entry is removed
(and, for a bounced contact, once they subscribe again: removal alone never resubscribes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from rapport.campaigns.services import create_campaign, get_campaign_for, start_campaign
from rapport.content.models import Workspace
from rapport.content.services import TemplateContent, create_template
from rapport.crm.models import ContactStatus
from rapport.delivery.models import Delivery, DeliveryState, Suppression, SuppressionReason
from rapport.delivery.pipeline import CampaignSender
from rapport.delivery.pool import SendPool
from rapport.delivery.suppressions import add_suppression, remove_suppression
from rapport.delivery.transport import SmtpTransport
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact
from tests.smtp_server import ScriptedHandler, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = {
    "ok@example.com": ContactStatus.SUBSCRIBED,
    "blocked@example.com": ContactStatus.SUBSCRIBED,
    "bounced@example.com": ContactStatus.BOUNCED,
    "anyone@blocked-domain.example.com": ContactStatus.SUBSCRIBED,
}
# Three campaigns in a minute: frequency caps are not what this tests.
NO_CAP = {"cap_messages": 100, "cap_days": 1}


@pytest.fixture
def server() -> Iterator[tuple[ScriptedHandler, int]]:
    with smtp_server() as running:
        yield running


def _audience() -> None:
    workspace = Workspace.current()
    workspace.postal_address = "1 Nanjing Road, Shanghai"
    workspace.save()
    listing = Segment.objects.create(name="Everyone", kind=SegmentKind.STATIC)
    for address, status in PEOPLE.items():
        SegmentMember.objects.create(
            segment=listing, contact=make_contact(email=address, status=status, **NO_CAP)
        )
    create_template(
        name="Hello",
        content=TemplateContent(
            subject="Hi", html='<p>Hi</p><a href="{{ unsubscribe_url }}">x</a>'
        ),
        acting_user=None,
    )


def _send_campaign(name: str, port: int, *, before_send: Any = None) -> None:
    campaign = create_campaign(name=name, template="Hello", audience=["Everyone"], acting_user=None)
    start_campaign(campaign.pk, acting_user=None)
    if before_send is not None:
        before_send()
    with SendPool(lambda: SmtpTransport(f"smtp://127.0.0.1:{port}")) as pool:
        CampaignSender(get_campaign_for(None, campaign.pk), pool, clock=timezone.now).run()


def _received(handler: ScriptedHandler) -> list[str]:
    addresses = sorted(r.recipient for r in handler.received)
    handler.received.clear()
    return addresses


def test_suppressed_contacts_get_nothing_until_removed_and_resubscribed(server: Any) -> None:
    handler, port = server
    _audience()
    add_suppression("blocked@example.com", note="asked by phone", acting_user=None)
    add_suppression("@blocked-domain.example.com", acting_user=None)
    Suppression.objects.create(email="bounced@example.com", reason=SuppressionReason.HARD_BOUNCE)

    _send_campaign("First", port)
    assert _received(handler) == ["ok@example.com"]

    for address in ("blocked@example.com", "@blocked-domain.example.com", "bounced@example.com"):
        remove_suppression(address, reason="a mistake", acting_user=None)
    _send_campaign("Second", port)
    # The bounced contact is off the list but still bounced: removal is not consent.
    assert _received(handler) == [
        "anyone@blocked-domain.example.com", "blocked@example.com", "ok@example.com"
    ]  # fmt: skip

    make_contact_subscribe_again("bounced@example.com")
    _send_campaign("Third", port)
    assert _received(handler) == sorted(PEOPLE)


def make_contact_subscribe_again(address: str) -> None:
    """What a confirmed sign-up does to the contact's status."""
    from rapport.crm.models import Contact  # noqa: PLC0415

    Contact.objects.filter(email=address).update(status=ContactStatus.SUBSCRIBED)


def test_a_domain_blocked_mid_campaign_is_skipped_at_hand_off(server: Any) -> None:
    handler, port = server
    _audience()

    _send_campaign(
        "Mid",
        port,
        before_send=lambda: add_suppression("@blocked-domain.example.com", acting_user=None),
    )

    assert "anyone@blocked-domain.example.com" not in _received(handler)
    skipped = Delivery.objects.get(contact__email="anyone@blocked-domain.example.com")
    assert skipped.state == DeliveryState.SKIPPED
