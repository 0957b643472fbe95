from django.urls import include, path

from rapport.api.urls import api
from rapport.tracking import views as tracking_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("e/unsubscribe/<str:token>", tracking_views.unsubscribe_view, name="unsubscribe"),
    # Providers' delivery, bounce and complaint events: /webhooks/<provider>/tracking/,
    # signature-checked by django-anymail.
    path("webhooks/", include("anymail.urls")),
    path("", include("rapport.analytics.urls")),
    path("", include("rapport.web.urls")),
]
