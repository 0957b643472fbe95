from django.urls import include, path

from rapport.api.urls import api
from rapport.tracking import views as tracking_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("e/unsubscribe/<str:token>", tracking_views.unsubscribe_view, name="unsubscribe"),
    # Opens and clicks; `rapport web` answers these before Django (tracking/wsgi.py).
    path("t/<str:kind>/<str:token>", tracking_views.hit_view, name="tracking_hit"),
    # Providers' delivery, bounce and complaint events: /webhooks/<provider>/tracking/,
    # signature-checked by django-anymail.
    path("webhooks/", include("anymail.urls")),
    path("", include("rapport.analytics.urls")),
    path("", include("rapport.delivery.urls")),
    path("", include("rapport.web.urls")),
]
