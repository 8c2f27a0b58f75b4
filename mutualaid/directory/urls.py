from django.urls import path

from . import feeds_views, report_views, views

app_name = "directory"
urlpatterns = [
    path("", views.home, name="home"),
    path("guide/", views.guide, name="guide"),
    path("print/", views.print_list, name="print"),
    path("meetings/<slug:slug>/", views.meeting_detail, name="meeting"),
    path("meetings/<slug:slug>.ics", views.meeting_ics, name="meeting-ics"),
    path("meetings/<slug:slug>/report/", report_views.report_problem, name="meeting-report"),
    path(
        "meetings/<slug:slug>/report/thanks/",
        report_views.report_thanks,
        name="meeting-report-thanks",
    ),
    path("feeds/meeting-guide.json", feeds_views.meeting_guide_feed, name="feed-meeting-guide"),
]
