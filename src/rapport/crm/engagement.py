"""Each contact's latest open and click, kept on the contact row.

Segments ask "opened in the last 30 days" and, far more costly, "not opened in 30 days": as
an anti-join of ten million events that took most of a 350 ms count at a million contacts; as
a column it is a filter on the row the count reads anyway. The columns hold the maximum
``occurred_at`` of the contact's events of that type, so both readings give the same set.

Kept up to date: every event saved one at a time (``Event.objects.create``, the tracking
endpoints) moves the column forward in the same transaction (a ``post_save`` receiver);
bulk loads, which bypass signals, call ``refresh_engagement`` afterwards, or, knowing the
latest times already (the tracking recorder's batches), ``move_engagement``.

Machine opens and scanner clicks (``data.machine``/``data.scanner`` true, see tracking.detect)
are not the person: they never move the columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import connection
from django.db.models import Max, OuterRef, Q, Subquery
from django.db.models.signals import post_save
from django.dispatch import receiver

from rapport.crm.models import Contact, Event, EventType

COLUMNS: dict[str, str] = {
    EventType.OPENED: "last_opened_at",
    EventType.CLICKED: "last_clicked_at",
}


def _not_flagged(key: str) -> Q:
    """Events without the flag (older ones, imported ones) count as the person's. Spelled
    out, not ``~Q(data__key=True)``: a negated JSON lookup must also keep the rows that lack
    the key, and the databases disagree on NULL there."""
    return Q(**{f"data__{key}": False}) | ~Q(data__has_key=key)


def human_opens() -> Q:
    """Opens by the person: not a privacy proxy's or security gateway's (``machine``)."""
    return Q(type=EventType.OPENED) & _not_flagged("machine")


def human_clicks() -> Q:
    """Clicks by the person: not a security scanner's (``scanner``)."""
    return Q(type=EventType.CLICKED) & _not_flagged("scanner")


def human_engagement() -> Q:
    """What engagement figures, A/B tests, learned send hours and journeys count."""
    return human_opens() | human_clicks()


_HUMAN: dict[str, Callable[[], Q]] = {
    EventType.OPENED: human_opens,
    EventType.CLICKED: human_clicks,
}


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
            Event.objects.filter(_HUMAN[event_type](), contact_id=OuterRef("pk"))
            .order_by()
            .values("contact_id")
            .annotate(latest=Max("occurred_at"))
            .values("latest")
        )
        for event_type, column in COLUMNS.items()
    }
    contacts.update(**latest)


def move_engagement(latest: Mapping[tuple[int, str], dt.datetime]) -> None:
    """Move the columns forward (never back) to ``latest[(contact, event type)]``, one
    statement per column: for events written in bulk, by people only (the tracking recorder)."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    pk = connection.ops.quote_name(Contact._meta.pk.column or "id")
    for event_type, column_name in COLUMNS.items():
        rows = [(at, contact) for (contact, kind), at in latest.items() if kind == event_type]
        if not rows:
            continue
        column = connection.ops.quote_name(column_name)
        sql = (
            f"UPDATE {table} SET {column} = %s WHERE {pk} = %s "  # noqa: S608 - names from the model
            f"AND ({column} IS NULL OR {column} < %s)"
        )
        adapt = connection.ops.adapt_datetimefield_value
        params = [(adapt(at), contact, adapt(at)) for at, contact in rows]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
