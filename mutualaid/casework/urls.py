"""Casework URLs. Staff pages live under /casework/ (settings.CLIENT_DATA_URL_PREFIXES: a
verified second factor is required by middleware as well as by each view). The link pages
for people without an account live outside it: /introductions/<token>/ (volunteer),
/volunteers/remove/<token>/ and /my-meetings/<token>/ (the client's self-report page)."""

from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from . import lifecycle_views, views


def path(route, view, name):
    """Client data and private links are never kept by browsers or proxies."""
    return django_path(route, never_cache(view), name=name)


app_name = "casework"

urlpatterns = [
    path("casework/", views.home, name="home"),
    path("casework/follow-ups/", views.follow_ups, name="follow-ups"),
    path("casework/clients/new/", views.client_new, name="client-new"),
    path("casework/clients/<int:pk>/", views.client_detail, name="client"),
    path("casework/clients/<int:pk>/edit/", views.client_edit, name="client-edit"),
    path("casework/clients/<int:pk>/consent/", views.client_consent, name="client-consent"),
    path("casework/clients/<int:pk>/stage/", views.client_stage, name="client-stage"),
    path("casework/clients/<int:pk>/close/", views.client_close, name="client-close"),
    path("casework/clients/<int:pk>/share/", views.client_share, name="client-share"),
    path("casework/clients/<int:pk>/assess/", views.assess, name="assess"),
    path("casework/clients/<int:pk>/meetings/", views.meetings, name="meetings"),
    path(
        "casework/clients/<int:pk>/meetings/<int:choice_pk>/",
        views.choice_status,
        name="choice-status",
    ),
    path("casework/clients/<int:pk>/goals/new/", views.goal_new, name="goal-new"),
    path(
        "casework/clients/<int:pk>/goals/<int:goal_pk>/review/",
        views.goal_review,
        name="goal-review",
    ),
    path(
        "casework/clients/<int:pk>/introductions/new/",
        views.introduction_new,
        name="introduction-new",
    ),
    path(
        "casework/clients/<int:pk>/introductions/<int:intro_pk>/cancel/",
        views.introduction_cancel,
        name="introduction-cancel",
    ),
    path("casework/clients/<int:pk>/follow-up/", views.follow_up, name="follow-up"),
    path(
        "casework/clients/<int:pk>/follow-up/<int:follow_up_pk>/",
        views.follow_up,
        name="follow-up-item",
    ),
    path("casework/clients/<int:pk>/attendance/", views.attendance_new, name="attendance-new"),
    path("casework/clients/<int:pk>/check-in/", views.check_in, name="check-in"),
    path("casework/clients/<int:pk>/barc-10/", views.barc10, name="barc10"),
    path(
        "casework/clients/<int:pk>/self-report-link/",
        views.self_report_link,
        name="self-report-link",
    ),
    path(
        "casework/clients/<int:pk>/subject-access/",
        lifecycle_views.subject_access,
        name="subject-access",
    ),
    path("casework/clients/<int:pk>/erase/", lifecycle_views.erase, name="erase"),
    path("casework/volunteers/", views.volunteers, name="volunteers"),
    path("casework/volunteers/new/", views.volunteer_form, name="volunteer-new"),
    path("casework/volunteers/<int:pk>/", views.volunteer_form, name="volunteer"),
    # No account: signed, expiring links.
    path("introductions/<str:token>/", views.volunteer_introduction, name="volunteer-introduction"),
    path("volunteers/remove/<str:token>/", views.volunteer_remove, name="volunteer-remove"),
    path("my-meetings/<str:token>/", views.self_report, name="self-report"),
]
