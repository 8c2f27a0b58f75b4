"""The site's URLs plus /bench/trivial.json: {"ok": true} through the same middleware, the
baseline every HTTP figure is read against."""

from django.http import JsonResponse
from django.urls import path

from mutualaid.urls import urlpatterns as site


def trivial(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/trivial.json", trivial), *site]
