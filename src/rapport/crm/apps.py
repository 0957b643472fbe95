from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "rapport.crm"
    label = "crm"
    verbose_name = "Customers"

    def ready(self) -> None:
        from rapport.crm import engagement  # noqa: F401, PLC0415 - connects its receiver
