"""The suppression list's pages, under Contacts (``/contacts/suppressions/``)."""

from django.urls import path

from rapport.delivery import views

urlpatterns = [
    path("contacts/suppressions/", views.suppression_index, name="suppressions"),
    path("contacts/suppressions/add", views.suppression_add, name="suppression_add"),
    path("contacts/suppressions/remove", views.suppression_remove, name="suppression_remove"),
    path("contacts/suppressions/export.csv", views.suppression_export, name="suppression_export"),
]
