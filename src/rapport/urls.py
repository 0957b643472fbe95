from django.urls import include, path

from rapport.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("rapport.web.urls")),
]
