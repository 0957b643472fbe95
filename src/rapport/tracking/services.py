"""Writes that recipients make through links in an email, and the workspace's tracking
choices."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.crm.models import Contact, ContactStatus, Event, EventType
from rapport.delivery.models import Suppression, SuppressionReason
from rapport.errors import InvalidInput
from rapport.tracking.models import LONGEST_WINDOW_HOURS, TrackingSettings


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


@transaction.atomic
def save_tracking_settings(
    *,
    enabled: bool,
    click_window_hours: int,
    attribute_opens: bool,
    open_window_hours: int,
    acting_user: User,
) -> TrackingSettings:
    """Whether opens and clicks are tracked, and the attribution windows. Turning tracking
    off takes effect for messages built from then on (no pixel, no tracked links) and for
    hits of messages already out there (answered, never recorded)."""
    require(acting_user, Perm.MANAGE_SENDING)
    for field, hours in (("click_window_hours", click_window_hours),
                         ("open_window_hours", open_window_hours)):  # fmt: skip
        if not 1 <= hours <= LONGEST_WINDOW_HOURS:
            raise InvalidInput(
                f"An attribution window is 1 to {LONGEST_WINDOW_HOURS} hours; {hours} is not.",
                field=field,
            )
    choices = TrackingSettings.current()
    choices.enabled, choices.attribute_opens = enabled, attribute_opens
    choices.click_window_hours, choices.open_window_hours = click_window_hours, open_window_hours
    choices.save()
    record_audit(
        acting_user,
        "tracking_settings.update",
        target_type="tracking_settings",
        target_id=choices.pk,
        detail={"enabled": enabled, "attribute_opens": attribute_opens,
                "click_window_hours": click_window_hours,
                "open_window_hours": open_window_hours},
    )  # fmt: skip
    return choices
