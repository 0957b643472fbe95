from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "rapport.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from rapport.crm.signals import orders_changed  # noqa: PLC0415 - apps are loading
        from rapport.segments.facts import refresh_facts  # noqa: PLC0415

        def on_orders_changed(sender: object, contact_ids: list[int], **_: object) -> None:
            refresh_facts(contact_ids)

        orders_changed.connect(on_orders_changed, weak=False, dispatch_uid="segments.facts")
