"""Authentication for the staff API (django-ninja).

`StaffTokenAuth(scopes=[...])`: header ``Authorization: Bearer <token>``. The token must be
unexpired, unrevoked, hold every listed scope, and belong to an active user who can still
see client data now (a leaver's or a moved person's tokens stop working at once). Tokens
are issued only from a session verified with a second factor, or by an administrator at the
CLI, so a token request counts as verified. Sets ``request.user`` and ``request.api_token``.

`VerifiedSessionAuth()`: the browser's own session, signed in AND second-factor verified,
with a client-data role (CSRF checked on unsafe methods, as ninja's session auth does).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from .mfa import is_verified
from .models import ApiToken, hash_token
from .roles import can_see_client_data

SCOPE_PATTERN = re.compile(r"^[a-z][a-z_]*:[a-z][a-z_]*$")
KNOWN_SCOPES = ("casework:read", "casework:write")
LAST_USED_RESOLUTION = timedelta(minutes=1)


def issue_token(
    *, user, name: str, scopes: list[str], days: int | None = None, actor=None, request=None
) -> tuple[ApiToken, str]:
    """Create a token; returns (token, plaintext). The plaintext is never stored: show it
    once. Callers check that the issuer is verified (web) or an administrator (CLI)."""
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else int(days)
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValueError(f"a token lasts 1 to {settings.API_TOKEN_MAX_DAYS} days")
    scopes = sorted(set(scopes))
    if not scopes or any(not SCOPE_PATTERN.match(s) for s in scopes):
        raise ValueError("scopes look like 'casework:read' (at least one)")
    plaintext = "mat_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=plaintext[:8],
            token_hash=hash_token(plaintext),
            scopes=scopes,
            expires_at=timezone.now() + timedelta(days=days),
        )
        from mutualaid.audit.services import record_event

        record_event(
            actor=actor or user,
            action="token_issued",
            target=token,
            request=request,
            detail={"for_user": user.pk, "scopes": scopes, "days": days},
        )
    return token, plaintext


def revoke_token(token: ApiToken, *, actor=None, request=None) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        token.refresh_from_db()
        from mutualaid.audit.services import record_event

        record_event(
            actor=actor or token.user, action="token_revoked", target=token, request=request
        )


def find_token(plaintext: str) -> ApiToken | None:
    """The usable token with this plaintext, or None (unknown, expired, revoked, inactive)."""
    if not plaintext or len(plaintext) > 200:
        return None
    return (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(token_hash=hash_token(plaintext))
        .first()
    )


def require_scope(request, scope: str) -> None:
    """Inside an endpoint: refuse (403) a token request lacking `scope`. Sessions pass."""
    token = getattr(request, "api_token", None)
    if token is not None and not token.has_scope(scope):
        raise HttpError(403, f"this token lacks the {scope} scope")


class StaffTokenAuth(HttpBearer):
    def __init__(self, scopes: list[str] | tuple[str, ...] = (), client_data: bool = True):
        super().__init__()
        self.scopes = frozenset(scopes)
        self.client_data = client_data

    def authenticate(self, request, token):
        found = find_token(token)
        if found is None:
            return None  # ninja answers 401
        if not self.scopes <= set(found.scopes or []):
            missing = ", ".join(sorted(self.scopes - set(found.scopes or [])))
            raise HttpError(403, f"this token lacks the scope {missing}")
        if self.client_data and not can_see_client_data(found.user):
            from mutualaid.audit.services import record_event

            record_event(
                actor=found.user,
                action="denied",
                request=request,
                detail={"path": request.path[:200], "token": found.pk},
            )
            raise HttpError(403, "this account cannot see client records")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        user = found.user
        # Issuing required a verified session (or an administrator at the CLI).
        user.is_verified = lambda: True
        request.user = user
        request.api_token = found
        return found


class VerifiedSessionAuth(SessionAuth):
    def __init__(self, client_data: bool = True, csrf: bool = True):
        super().__init__(csrf=csrf)
        self.client_data = client_data

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated or not is_verified(user):
            return None
        if self.client_data and not can_see_client_data(user):
            raise HttpError(403, "this account cannot see client records")
        request.api_token = None
        return user
