"""The UI's whole route table; each view checks its own permission (``rapport.accounts``)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from rapport.web.views import account, contacts, dashboard, imports

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("account/language/", account.language, name="language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("contacts/", contacts.contact_index, name="contacts"),
    path("contacts/export.csv", contacts.contact_export, name="contacts_export"),
    path("contacts/<int:contact_id>/", contacts.contact_page, name="contact"),
    path("imports/", imports.import_page, name="imports"),
    path("imports/<int:job_id>/row", imports.import_job_row, name="import_job_row"),
    path("imports/<int:job_id>/rejects", imports.import_rejects, name="import_rejects"),
]
