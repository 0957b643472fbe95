from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "rapport.delivery"
    label = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        from rapport.delivery import providers  # noqa: F401, PLC0415 - connects the webhooks
