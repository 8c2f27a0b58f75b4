"""Sign-in, sign-out and failed sign-in go to the audit trail; sign-in stamps the session."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from mutualaid.audit.services import record_event

from .middleware import stamp_session


@receiver(user_logged_in, dispatch_uid="accounts_audit_login")
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        stamp_session(request, user)
    record_event(actor=user, action="login", request=request)


@receiver(user_logged_out, dispatch_uid="accounts_audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(actor=user, action="logout", request=request)


@receiver(user_login_failed, dispatch_uid="accounts_audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:150]
    record_event(
        actor=None,
        actor_label=f"anonymous ({username})" if username else None,
        action="login_failed",
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="accounts_audit_lockout")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    record_event(
        actor=None,
        actor_label=f"anonymous ({str(username or '')[:150]})",
        action="lockout",
        request=request,
    )
