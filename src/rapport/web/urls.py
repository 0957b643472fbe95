"""The UI's whole route table; each view checks its own permission (``rapport.accounts``)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from rapport.web.views import (
    account,
    campaigns,
    contacts,
    dashboard,
    email_templates,
    imports,
    outbox,
    segments,
    sending,
)

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
    path("contacts/<int:contact_id>/tracking", contacts.contact_tracking, name="contact_tracking"),
    path("imports/", imports.import_page, name="imports"),
    path("imports/<int:job_id>/row", imports.import_job_row, name="import_job_row"),
    path("imports/<int:job_id>/rejects", imports.import_rejects, name="import_rejects"),
    path("segments/", segments.segment_index, name="segments"),
    path("segments/new", segments.segment_new, name="segment_new"),
    path("segments/builder", segments.segment_builder_part, name="segment_builder"),
    path("segments/preview", segments.segment_preview, name="segment_preview"),
    path("segments/<int:segment_id>/", segments.segment_page, name="segment"),
    path("segments/<int:segment_id>/count", segments.segment_count, name="segment_count"),
    path("segments/<int:segment_id>/members", segments.segment_members, name="segment_members"),
    path("segments/<int:segment_id>/delete", segments.segment_delete, name="segment_delete"),
    path("templates/", email_templates.template_index, name="templates"),
    path("templates/new", email_templates.template_new, name="template_new"),
    path("templates/<int:template_id>/", email_templates.template_page, name="template"),
    path(
        "templates/<int:template_id>/contacts",
        email_templates.template_contact_search,
        name="template_contact_search",
    ),
    path(
        "templates/<int:template_id>/test",
        email_templates.template_test_send,
        name="template_test_send",
    ),
    path("preview/<str:token>/", email_templates.template_frame, name="template_frame"),
    path("campaigns/", campaigns.campaign_index, name="campaigns"),
    path("campaigns/new", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", campaigns.campaign_page, name="campaign"),
    path(
        "campaigns/<int:campaign_id>/progress",
        campaigns.campaign_progress,
        name="campaign_progress",
    ),
    path(
        "campaigns/<int:campaign_id>/<str:action>",
        campaigns.campaign_action,
        name="campaign_action",
    ),
    path("settings/sending/", sending.sending_page, name="sending"),
    path("settings/sending/<str:part>", sending.sending_save, name="sending_save"),
    path(
        "settings/smtp-servers/<int:server_id>/<str:action>",
        sending.server_action,
        name="smtp_server_action",
    ),
    path("outbox/", outbox.outbox_index, name="outbox"),
    path("outbox/delete-all", outbox.outbox_clear, name="outbox_clear"),
    path("outbox/<int:message_id>/", outbox.outbox_message, name="outbox_message"),
    path("outbox/<int:message_id>/message.eml", outbox.outbox_download, name="outbox_download"),
    path("outbox/frame/<str:token>/", outbox.outbox_frame, name="outbox_frame"),
]
