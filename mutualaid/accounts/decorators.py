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


def client_data_view(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not is_verified(user):
            return HttpResponseRedirect(mfa_url(request))
        if not can_see_client_data(user):
            from mutualaid.audit.services import record_event

            record_event(
                actor=user,
                action="denied",
                request=request,
                detail={"path": request.path[:200], "method": request.method},
            )
            return forbidden(request)
        return view(request, *args, **kwargs)

    wrapper.client_data_view = True
    return wrapper
