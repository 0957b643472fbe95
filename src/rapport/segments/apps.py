from django.apps import AppConfig
from django.db.models.signals import post_migrate


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

        def on_migrated(sender: AppConfig, **_: object) -> None:
            from rapport.segments.services import ensure_builtin_segments  # noqa: PLC0415

            ensure_builtin_segments()

        post_migrate.connect(on_migrated, sender=self, weak=False, dispatch_uid="segments.builtin")
