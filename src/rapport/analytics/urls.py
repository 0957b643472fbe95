"""The analytics pages' routes, included before the web app's (whose campaign actions would
otherwise take ``campaigns/<id>/report``)."""

from django.urls import path

from rapport.analytics import views

urlpatterns = [
    path("campaigns/<int:campaign_id>/report/", views.campaign_report, name="campaign_report"),
    path(
        "campaigns/<int:campaign_id>/report/<str:table>.csv",
        views.campaign_report_csv,
        name="campaign_report_csv",
    ),
    path("journeys/<int:journey_id>/report/", views.journey_report, name="journey_report"),
    path(
        "journeys/<int:journey_id>/report/<str:table>.csv",
        views.journey_report_csv,
        name="journey_report_csv",
    ),
    path("analytics/plotly.css", views.plotly_stylesheet, name="plotly_css"),
    path("dashboard/use-window", views.use_window, name="use_window"),
]
