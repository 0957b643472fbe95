from django.urls import include, path

from rapport.api.urls import api
from rapport.tracking import views as tracking_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("e/unsubscribe/<str:token>", tracking_views.unsubscribe_view, name="unsubscribe"),
    path("", include("rapport.web.urls")),
]
