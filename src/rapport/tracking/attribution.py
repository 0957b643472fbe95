"""Conversions: which email an order is credited to (contract item 2).

The rule is last touch: an order goes to the campaign of the contact's latest human click in
the click window before it (7 days by default); when no click qualifies and the workspace
allows it, to the latest human open in the open window (1 day). Machine opens and scanner
clicks never count: a security gateway following every link must not win the credit. The
windows are measured back from the order's own time, so an import of last year's orders is
credited against last year's clicks.

Orders arrive by import, by the API and with coupons; all three send ``orders_changed`` inside
their transaction, and attribution runs there, so the credit commits with the order. Touches
arrive in batches and a click may be committed just after an order it preceded; the recorder
therefore calls ``attribute_orders_of`` again for the contacts whose touches it writes. Only
orders not credited yet are considered, which makes every call idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rapport.crm.models import Event, EventType
from rapport.tracking.models import TrackingSettings

RULE = "last_touch"


@dataclass(frozen=True, slots=True)
class _Touch:
    event_id: int
    kind: str  # "click" | "open"
    at: dt.datetime
    campaign_id: int


def attribute_orders_of(contact_ids: Iterable[int], *, since: dt.datetime | None = None) -> int:
    """Credit these contacts' uncredited orders (placed at or after ``since``, if given) to
    the email that led to them; returns how many were credited."""
    contacts = sorted(set(contact_ids))
    if not contacts:
        return 0
    orders_query = Event.objects.filter(
        contact_id__in=contacts, type=EventType.ORDERED, campaign_id__isnull=True
    ).exclude(order__isnull=True)
    if since is not None:
        orders_query = orders_query.filter(occurred_at__gte=since)
    orders = list(orders_query.values_list("pk", "contact_id", "occurred_at", "data"))
    if not orders:
        return 0
    choices = TrackingSettings.current()
    click_window = dt.timedelta(hours=choices.click_window_hours)
    open_window = dt.timedelta(hours=choices.open_window_hours)
    widest = max(click_window, open_window) if choices.attribute_opens else click_window
    touches = _touches(
        {contact for _, contact, _, _ in orders},
        start=min(at for _, _, at, _ in orders) - widest,
        end=max(at for _, _, at, _ in orders),
        with_opens=choices.attribute_opens,
    )
    credited: list[Event] = []
    for pk, contact, placed_at, data in orders:
        mine = touches.get(contact, [])
        touch = _last(mine, "click", placed_at - click_window, placed_at)
        window = choices.click_window_hours
        if touch is None and choices.attribute_opens:
            touch = _last(mine, "open", placed_at - open_window, placed_at)
            window = choices.open_window_hours
        if touch is None:
            continue
        attribution = {
            "touch": touch.kind,
            "touch_event": touch.event_id,
            "rule": RULE,
            "window_hours": window,
        }
        credited.append(
            Event(pk=pk, campaign_id=touch.campaign_id, data={**data, "attribution": attribution})
        )
    Event.objects.bulk_update(credited, ["campaign_id", "data"], batch_size=500)
    return len(credited)


def _touches(
    contacts: set[int], *, start: dt.datetime, end: dt.datetime, with_opens: bool
) -> dict[int, list[_Touch]]:
    """Human clicks (and opens) of these contacts between ``start`` and ``end``."""
    kinds: dict[str, str] = {EventType.CLICKED.value: "click"}
    if with_opens:
        kinds[EventType.OPENED.value] = "open"
    rows = (
        Event.objects.filter(
            contact_id__in=sorted(contacts),
            type__in=list(kinds),
            occurred_at__gte=start,
            occurred_at__lte=end,
            campaign_id__isnull=False,
        )
        .values_list(
            "pk", "contact_id", "type", "occurred_at", "campaign_id", "data__machine",
            "data__scanner",
        )
    )  # fmt: skip
    found: dict[int, list[_Touch]] = {}
    for pk, contact, kind, at, campaign, machine, scanner in rows:
        if machine is True or scanner is True or campaign is None:
            continue  # a prefetch or a security scanner, not the person
        found.setdefault(contact, []).append(_Touch(pk, kinds[kind], at, campaign))
    return found


def _last(touches: list[_Touch], kind: str, start: dt.datetime, end: dt.datetime) -> _Touch | None:
    """The latest touch of ``kind`` in [start, end]; ties go to the later event id."""
    best: _Touch | None = None
    for touch in touches:
        if touch.kind != kind or not start <= touch.at <= end:
            continue
        if best is None or (touch.at, touch.event_id) > (best.at, best.event_id):
            best = touch
    return best


def on_orders_changed(sender: object, contact_ids: list[int], **_: Any) -> None:
    attribute_orders_of(contact_ids)
