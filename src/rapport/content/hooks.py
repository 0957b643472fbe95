"""Keeps content data in step with the CRM: coupon redemptions when orders arrive, and a fresh
recommendation model after an import of orders or products."""

from __future__ import annotations

from django.db import transaction

from rapport.crm.signals import import_finished, orders_changed


def connect() -> None:
    orders_changed.connect(_on_orders_changed, weak=False, dispatch_uid="content.coupons")
    import_finished.connect(_on_import_finished, weak=False, dispatch_uid="content.recommend")


def _on_orders_changed(sender: object, contact_ids: list[int], **_: object) -> None:
    from rapport.content.coupons import redeem_orders_of  # noqa: PLC0415 - imported late

    redeem_orders_of(contact_ids)


def _on_import_finished(sender: object, kind: str, **_: object) -> None:
    if kind not in {"orders", "products"}:
        return
    from rapport.content.tasks import retrain_recommendations  # noqa: PLC0415

    transaction.on_commit(retrain_recommendations.enqueue)
