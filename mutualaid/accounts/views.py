"""Staff sign-in, second factor, recovery codes, API tokens and "sign out everywhere"."""

from __future__ import annotations

from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualaid.audit.services import record_event

from . import mfa
from .api_auth import KNOWN_SCOPES, issue_token, revoke_token
from .middleware import END_REASON_KEY
from .models import ApiToken, SessionEpoch
from .roles import can_see_client_data, membership_of


def _safe_next(request, default: str | None = None) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default or settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Password first (Argon2, lockout by django-axes), then always the second-factor step."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["end_reason"] = self.request.session.pop(END_REASON_KEY, None)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["idle_minutes"] = settings.SESSION_IDLE_MINUTES
        return context

    def get_success_url(self):
        after = self.get_redirect_url() or resolve_url(settings.LOGIN_REDIRECT_URL)
        step = (
            "accounts:otp_verify"
            if mfa.has_confirmed_device(self.request.user)
            else ("accounts:otp_setup")
        )
        return f"{resolve_url(step)}?{urlencode({'next': after})}"


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


def _complete_second_factor(request, device, *, recovery: bool) -> None:
    otp_login(request, device)
    request.session.cycle_key()  # a new session id for the elevated session
    if recovery:
        record_event(
            actor=request.user,
            action="mfa_recovery_used",
            request=request,
            detail={"codes_left": mfa.recovery_codes_left(request.user)},
        )
    else:
        record_event(actor=request.user, action="mfa_verified", request=request)


@never_cache
@login_required
def otp_verify(request):
    if not mfa.has_confirmed_device(request.user):
        return redirect(
            f"{resolve_url('accounts:otp_setup')}?{urlencode({'next': _safe_next(request)})}"
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, recovery = mfa.verify_second_factor(request.user, form.cleaned_data["token"])
        if device is not None:
            _complete_second_factor(request, device, recovery=recovery)
            return HttpResponseRedirect(_safe_next(request))
        record_event(actor=request.user, action="mfa_failed", request=request)
        form.add_error("token", gettext("That code did not work. Codes change every 30 seconds."))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request)})


@never_cache
@login_required
def otp_setup(request):
    user = request.user
    if mfa.has_confirmed_device(user):
        if not mfa.is_verified(user):
            # Adding a device needs the existing one: a password alone must not suffice.
            return redirect(
                f"{resolve_url('accounts:otp_verify')}?{urlencode({'next': _safe_next(request)})}"
            )
        messages.info(request, gettext("Two-factor authentication is already set up."))
        return redirect("accounts:home")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by(
        "-id"
    ).first() or TOTPDevice.objects.create(user=user, name=mfa.TOTP_DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                codes = mfa.issue_recovery_codes(user)
                _complete_second_factor(request, device, recovery=False)
                record_event(actor=user, action="mfa_setup", request=request)
                record_event(actor=user, action="mfa_recovery_codes", request=request)
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": codes, "next": _safe_next(request)},
                )
        form.add_error("token", gettext("That code did not match. Check the time on your phone."))
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR code")
    secret = b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_svg": svg,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _safe_next(request),
        },
    )


def _verified_required(request):
    if not mfa.is_verified(request.user):
        return HttpResponseRedirect(mfa.mfa_url(request))
    return None


@never_cache
@login_required
def home(request):
    user = request.user
    context = {
        "membership": membership_of(user),
        "verified": mfa.is_verified(user),
        "has_device": mfa.has_confirmed_device(user),
        "codes_left": mfa.recovery_codes_left(user),
        "tokens": ApiToken.objects.filter(user=user).order_by("-created_at"),
        "can_issue_tokens": mfa.is_verified(user) and can_see_client_data(user),
        "scopes": KNOWN_SCOPES,
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        "token_days": settings.API_TOKEN_DEFAULT_DAYS,
    }
    return render(request, "accounts/home.html", context)


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    refusal = _verified_required(request)
    if refusal:
        return refusal
    codes = mfa.issue_recovery_codes(request.user)
    record_event(actor=request.user, action="mfa_recovery_codes", request=request)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": resolve_url("accounts:home")},
    )


class IssueTokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in KNOWN_SCOPES], widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(min_value=1, initial=90)

    def clean_days(self):
        days = self.cleaned_data["days"]
        if days > settings.API_TOKEN_MAX_DAYS:
            raise forms.ValidationError(
                gettext("At most %(days)s days.") % {"days": settings.API_TOKEN_MAX_DAYS}
            )
        return days


@never_cache
@login_required
@require_POST
def token_issue(request):
    refusal = _verified_required(request)
    if refusal:
        return refusal
    if not can_see_client_data(request.user):
        from .decorators import forbidden

        return forbidden(request, "Only staff who work with client records can have API tokens.")
    form = IssueTokenForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, gettext("Give the token a name, at least one scope and a lifetime.")
        )
        return redirect("accounts:home")
    token, plaintext = issue_token(
        user=request.user,
        name=form.cleaned_data["name"],
        scopes=form.cleaned_data["scopes"],
        days=form.cleaned_data["days"],
        request=request,
    )
    return render(request, "accounts/token_issued.html", {"token": token, "plaintext": plaintext})


@never_cache
@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    revoke_token(token, actor=request.user, request=request)
    messages.success(request, gettext("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("accounts:home")


@never_cache
@login_required
@require_POST
def sign_out_everywhere(request):
    """End every session of this user, on every device, this one included."""
    user = request.user
    with transaction.atomic():
        epoch, _ = SessionEpoch.objects.get_or_create(user=user)
        SessionEpoch.objects.filter(pk=epoch.pk).update(value=F("value") + 1)
        record_event(actor=user, action="sessions_revoked", request=request)
    logout(request)
    request.session[END_REASON_KEY] = "revoked"
    return redirect("accounts:login")


class LogoutView(auth_views.LogoutView):
    """POST only; then the sign-in page (LOGOUT_REDIRECT_URL)."""
