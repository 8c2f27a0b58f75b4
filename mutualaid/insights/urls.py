"""/insights/: service outcomes, supervision reports, the area view and the self-assessment.
Client-derived figures, so never cached (as casework)."""

from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from . import views


def path(route, view, name):
    return django_path(route, never_cache(view), name=name)


app_name = "insights"

urlpatterns = [
    path("", views.index, name="index"),
    path("outcomes/", views.outcomes, name="outcomes"),
    path("supervision/", views.supervision_list, name="supervision-list"),
    path("supervision/<str:username>/", views.supervision, name="supervision"),
    path("supervision/<str:username>/pdf/", views.supervision_pdf, name="supervision-pdf"),
    path("area/", views.area, name="area"),
    path("self-assessment/", views.self_assessment, name="self-assessment"),
    path("self-assessment/pdf/", views.self_assessment_pdf, name="self-assessment-pdf"),
]
