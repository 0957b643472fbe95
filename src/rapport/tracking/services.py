"""Writes that recipients make through links in an email."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rapport.crm.models import Contact, ContactStatus, Event, EventType
from rapport.delivery.models import Suppression, SuppressionReason


def campaign_of(source: str) -> int | None:
    """``campaign:12`` -> 12; journeys and previews name no campaign."""
    kind, _, number = source.partition(":")
    return int(number) if kind == "campaign" and number.isdigit() else None


@transaction.atomic
def unsubscribe(contact_id: int, *, source: str, how: str) -> bool:
    """Unsubscribe at once and for every list; True the first time, False when it was done
    already (a second click, a mail client's retry), which changes nothing."""
    contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None:
        return False
    _, created = Suppression.objects.get_or_create(
        email=contact.email,
        defaults={"reason": SuppressionReason.UNSUBSCRIBED, "source": f"{how} {source}"[:200]},
    )
    if contact.status == ContactStatus.UNSUBSCRIBED and not created:
        return False
    if contact.status in (ContactStatus.SUBSCRIBED, ContactStatus.PENDING,
                          ContactStatus.NOT_SUBSCRIBED):  # fmt: skip
        contact.status = ContactStatus.UNSUBSCRIBED
        contact.save(update_fields=["status", "updated_at"])
    Event.objects.create(
        contact=contact,
        type=EventType.UNSUBSCRIBED,
        occurred_at=timezone.now(),
        campaign_id=campaign_of(source),
        data={"how": how},
    )
    return True
