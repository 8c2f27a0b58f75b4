"""Staff accounts for tests, signed in the real way: password form, then a TOTP code.

keyworker = make_staff(Role.KEYWORKER)
login_verified(client, keyworker)        # client now has a verified session
"""

from __future__ import annotations

import itertools
import time

from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualaid.accounts.models import Membership, Organisation, Role, Team

STAFF_PASSWORD = "correct horse battery staple 42"
_counter = itertools.count(1)


def make_organisation(name: str | None = None, area: str = "Brighton and Hove") -> Organisation:
    n = next(_counter)
    name = name or f"Test service {n}"
    return Organisation.objects.create(name=name, slug=f"test-service-{n}", area=area)


def make_staff(
    role: str = Role.KEYWORKER,
    organisation: Organisation | None = None,
    team: Team | None = None,
    username: str | None = None,
    *,
    area: str = "",
    with_device: bool = True,
):
    """A staff user (Argon2-hashed STAFF_PASSWORD) with a membership and, unless told
    otherwise, a confirmed TOTP device (`user.totp_device`)."""
    organisation = organisation or (team.organisation if team else make_organisation())
    username = username or f"{role}-{next(_counter)}"
    user = get_user_model().objects.create_user(username=username, password=STAFF_PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, team=team, role=role, area=area)
    user.totp_device = (
        TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
        if with_device
        else None
    )
    return user


def current_totp(device: TOTPDevice) -> str:
    """The code an authenticator app would show now, for a time step the device has not
    accepted yet (a second sign-in within 30 s uses the next step, inside the tolerance)."""
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now.time = time.time()
    offset = max(0, device.last_t + 1 - now.t())
    if offset > device.tolerance:
        time.sleep(device.step)  # only after several sign-ins within seconds
        return current_totp(device)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset):0{device.digits}d}"


def login_password_only(client, user, password: str = STAFF_PASSWORD):
    """Sign in with the password form only (the session is NOT second-factor verified)."""
    response = client.post(
        reverse("accounts:login"), {"username": user.get_username(), "password": password}
    )
    assert response.status_code == 302, f"password sign-in failed: {response.status_code}"
    return response


def login_verified(client, user, password: str = STAFF_PASSWORD):
    """Sign in through the real pages: password, then a TOTP code from the user's device."""
    login_password_only(client, user, password)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    assert device is not None, "login_verified needs a user with a confirmed TOTP device"
    response = client.post(reverse("accounts:otp_verify"), {"token": current_totp(device)})
    assert response.status_code == 302, f"second factor refused: {response.status_code}"
    return client
