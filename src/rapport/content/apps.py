from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ContentConfig(AppConfig):
    name = "rapport.content"
    label = "content"
    verbose_name = "Content"

    def ready(self) -> None:
        from rapport.content import hooks  # noqa: PLC0415 - apps are loading

        hooks.connect()

        def on_migrated(sender: AppConfig, **_: object) -> None:
            from rapport.content.library import ensure_library_templates  # noqa: PLC0415

            ensure_library_templates()

        post_migrate.connect(on_migrated, sender=self, weak=False, dispatch_uid="content.library")
