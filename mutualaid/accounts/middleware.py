"""Session security: idle expiry, "sign out everywhere", and MFA on client-data URLs."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect, JsonResponse

from .mfa import is_verified, mfa_url

SESSION_EPOCH_KEY = "_auth_epoch"
LAST_ACTIVITY_KEY = "_last_activity"
END_REASON_KEY = "_session_end_reason"


def current_epoch(user) -> int:
    from .models import SessionEpoch

    value = SessionEpoch.objects.filter(user_id=user.pk).values_list("value", flat=True).first()
    return value or 0


def stamp_session(request, user) -> None:
    """At sign-in: remember the user's session epoch and the time."""
    request.session[SESSION_EPOCH_KEY] = current_epoch(user)
    request.session[LAST_ACTIVITY_KEY] = int(time.time())


class SessionSecurityMiddleware:
    """Ends a signed-in session that was idle for SESSION_IDLE_MINUTES (server-side, not
    only by cookie age) or whose epoch no longer matches the user's (signed out everywhere)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            idle_limit = settings.SESSION_IDLE_MINUTES * 60
            reason = None
            if request.session.get(SESSION_EPOCH_KEY) != current_epoch(user):
                reason = "revoked"
            elif last is None or now - int(last) > idle_limit:
                reason = "idle"
            if reason:
                self._end(request, user, reason)
            else:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _end(request, user, reason: str) -> None:
        from mutualaid.audit.services import record_event

        if reason == "idle":
            record_event(
                actor=user, action="session_expired", request=request, detail={"reason": reason}
            )
        # Django's logout sends user_logged_out (audited as logout) and flushes the session.
        logout(request)
        request.session[END_REASON_KEY] = reason  # the sign-in page says why


class ClientDataMFAMiddleware:
    """Belt and braces with @client_data_view: every URL under CLIENT_DATA_URL_PREFIXES is
    refused to a session without a verified second factor, whatever the view does. Requests
    with a Bearer token pass to the API's token authentication (StaffTokenAuth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        prefixes = getattr(settings, "CLIENT_DATA_URL_PREFIXES", [])
        if any(path.startswith(prefix) for prefix in prefixes):
            refusal = self.refusal(request, path)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def refusal(request, path):
        is_api = path.startswith("/api/")
        if is_api and request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None
        user = request.user
        if not user.is_authenticated:
            if is_api:
                return JsonResponse({"detail": "Sign in required"}, status=401)
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not is_verified(user):
            if is_api:
                return JsonResponse({"detail": "Two-factor verification required"}, status=403)
            return HttpResponseRedirect(mfa_url(request))
        return None
