from django.contrib import admin
from django.urls import include, path

from mutualaid.directory.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("mutualaid.ops.urls")),  # /healthz
    path("accounts/", include("mutualaid.accounts.urls")),
    # The language switcher posts here (Django's set_language: CSRF-checked, no JavaScript).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("main_server/", include("mutualaid.directory.bmlt_api")),
    path("", include("mutualaid.casework.urls")),
    path("insights/", include("mutualaid.insights.urls")),
    path("", include("mutualaid.directory.urls")),
]
# JSON 404s under /api/ (the API schema's), Django's page elsewhere.
handler404 = "mutualaid.ops.views.not_found"
