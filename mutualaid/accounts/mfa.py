"""Second factor: TOTP devices and single-use recovery codes (django-otp).

Recovery codes are stored as an HMAC (keyed by SECRET_KEY) truncated to 16 hex digits, not
as themselves: a copy of the database does not reveal them. (Changing SECRET_KEY without
SECRET_KEY_FALLBACKS invalidates them; staff then use their authenticator app.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_DEVICE_NAME = "recovery codes"
TOTP_DEVICE_NAME = "authenticator app"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def is_verified(user) -> bool:
    """True when this request's user passed a second factor (or used a staff API token)."""
    check = getattr(user, "is_verified", None)
    return bool(user is not None and user.is_authenticated and check is not None and check())


def has_confirmed_device(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def mfa_url(request) -> str:
    """Where to send a signed-in but unverified person: verify, or set up if no device yet."""
    name = "accounts:otp_verify" if has_confirmed_device(request.user) else "accounts:otp_setup"
    return f"{resolve_url(name)}?{urlencode({'next': request.get_full_path()})}"


def recovery_digest(code: str) -> str:
    normalised = "".join(code.lower().split()).replace("-", "")
    secret = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(secret, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def issue_recovery_codes(user, count: int | None = None) -> list[str]:
    """Replace the user's recovery codes with `count` new ones; returns them (shown once)."""
    count = count or settings.OTP_RECOVERY_CODES
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_code() for _ in range(count)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_digest(c)) for c in codes]
    )
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def verify_second_factor(user, token: str):
    """Check a 6-digit TOTP token or a recovery code; returns (device, used_recovery) or
    (None, False). Throttling (django-otp) applies per device."""
    token = (token or "").strip()
    digits = token.replace(" ", "")
    with transaction.atomic():
        if digits.isdigit():
            for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(digits):
                    return device, False
            return None, False
        device = (
            StaticDevice.objects.select_for_update()
            .filter(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
            .first()
        )
        if device is not None and token and device.verify_token(recovery_digest(token)):
            return device, True
    return None, False
