"""`@client_data_view`: the gate in front of every view that shows client data.

Order: signed in (else the sign-in page) → second factor verified this session (else the
verify page, or set-up if the person has no device yet) → a role that carries client data
or an active break-glass grant (else 403, audited as "denied").
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render

from .mfa import is_verified, mfa_url
from .roles import can_see_client_data


def forbidden(request, message: str = "Your role does not include client records."):
    return render(request, "accounts/forbidden.html", {"message": message}, status=403)


def deny(request, reason: str | None = None) -> None:
    """Audit a refused request (no client content: the path, the method, why)."""
    from mutualaid.audit.services import record_event

    detail = {"path": request.path[:200], "method": request.method}
    if reason:
        detail["reason"] = reason
    record_event(actor=request.user, action="denied", request=request, detail=detail)


def staff_view(allowed, message=None, *, reason: str | None = None):
    """Signed in → second factor verified this session → allowed(user), else 403 (audited
    as "denied", with `reason` when given)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not is_verified(user):
                return HttpResponseRedirect(mfa_url(request))
            if not allowed(user):
                deny(request, reason)
                return forbidden(request) if message is None else forbidden(request, str(message))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def client_data_view(view):
    wrapper = staff_view(can_see_client_data)(view)
    wrapper.client_data_view = True
    return wrapper
