"""Each contact's latest open and click, kept on the contact row.

Segments ask "opened in the last 30 days" and, far more costly, "not opened in 30 days": as
an anti-join of ten million events that took most of a 350 ms count at a million contacts; as
a column it is a filter on the row the count reads anyway. The columns hold the maximum
``occurred_at`` of the contact's events of that type, so both readings give the same set.

Kept in two ways: every event saved one at a time (``Event.objects.create``, the tracking
endpoints) moves the column forward in the same transaction (a ``post_save`` receiver);
bulk loads, which bypass signals, call ``refresh_engagement`` afterwards.

Machine opens and scanner clicks (``data.machine``/``data.scanner`` true, see tracking.detect)
are not the person: they never move the columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Max, OuterRef, Q, Subquery
from django.db.models.signals import post_save
from django.dispatch import receiver

from rapport.crm.models import Contact, Event, EventType

COLUMNS: dict[str, str] = {
    EventType.OPENED: "last_opened_at",
    EventType.CLICKED: "last_clicked_at",
}
# Events without the flag (older ones, imported ones) count as the person's.
_BY_A_PERSON = (Q(data__machine=False) | ~Q(data__has_key="machine")) & (
    Q(data__scanner=False) | ~Q(data__has_key="scanner")
)


def _by_a_machine(data: Any) -> bool:
    return isinstance(data, dict) and (data.get("machine") is True or data.get("scanner") is True)


@receiver(post_save, sender=Event)
def _event_saved(sender: Any, instance: Event, created: bool, **_: Any) -> None:
    column = COLUMNS.get(instance.type)
    if column is None or not created or _by_a_machine(instance.data):
        return
    later = Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__lt": instance.occurred_at})
    Contact.objects.filter(later, pk=instance.contact_id).update(**{column: instance.occurred_at})


def refresh_engagement(contact_ids: Iterable[int] | None = None) -> None:
    """Recompute the columns from the events (all contacts, or these), after a bulk load."""
    contacts = Contact.objects.all()
    if contact_ids is not None:
        contacts = contacts.filter(pk__in=list(contact_ids))
    latest = {
        column: Subquery(
            Event.objects.filter(_BY_A_PERSON, contact_id=OuterRef("pk"), type=event_type)
            .order_by()
            .values("contact_id")
            .annotate(latest=Max("occurred_at"))
            .values("latest")
        )
        for event_type, column in COLUMNS.items()
    }
    contacts.update(**latest)
