from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "rapport.delivery"
    label = "delivery"
    verbose_name = "Delivery"
