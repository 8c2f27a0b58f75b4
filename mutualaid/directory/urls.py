from django.urls import path

from . import views

app_name = "directory"
urlpatterns = [
    path("", views.home, name="home"),
    path("meetings/<slug:slug>/", views.meeting_detail, name="meeting"),
    path("meetings/<slug:slug>.ics", views.meeting_ics, name="meeting-ics"),
]
