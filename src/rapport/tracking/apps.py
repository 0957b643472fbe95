"""Tracking: what recipients do with an email: opens, clicks, one-click unsubscribe, and the
conversions (orders) credited to the emails that led to them."""

from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "rapport.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from rapport.crm.signals import orders_changed  # noqa: PLC0415 - apps are loading
        from rapport.tracking.attribution import on_orders_changed  # noqa: PLC0415

        orders_changed.connect(on_orders_changed, weak=False, dispatch_uid="tracking.attribution")
