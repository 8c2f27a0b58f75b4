from django.urls import path

from . import feeds_views, views

app_name = "directory"
urlpatterns = [
    path("", views.home, name="home"),
    path("meetings/<slug:slug>/", views.meeting_detail, name="meeting"),
    path("meetings/<slug:slug>.ics", views.meeting_ics, name="meeting-ics"),
    path("feeds/meeting-guide.json", feeds_views.meeting_guide_feed, name="feed-meeting-guide"),
]
