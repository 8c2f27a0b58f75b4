"""Sign-in as a person does it: Argon2 passwords, TOTP, recovery codes, lockout, idle
expiry, sign out everywhere, MFA on every client-data URL, and the audit of it all."""

import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualaid.accounts.middleware import LAST_ACTIVITY_KEY
from mutualaid.accounts.models import Role
from mutualaid.audit.models import AuditEvent
from mutualaid.audit.services import verify_chain
from tests.accounts.helpers import (
    STAFF_PASSWORD,
    current_totp,
    login_password_only,
    login_verified,
    make_staff,
)

pytestmark = pytest.mark.django_db

CASEWORK_URL = "/casework/clients/"
CASEWORK_API_URL = "/api/v1/casework/clients"


def _actions(user=None):
    events = AuditEvent.objects.order_by("seq")
    if user is not None:
        events = events.filter(actor_id=user.pk)
    return list(events.values_list("action", flat=True))


def test_passwords_are_hashed_with_argon2():
    user = make_staff(Role.KEYWORKER)
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert user.password.startswith("argon2$argon2id$")
    assert STAFF_PASSWORD not in user.password


def test_an_older_hash_is_upgraded_to_argon2_at_sign_in(client):
    from django.contrib.auth.hashers import make_password

    user = make_staff(Role.KEYWORKER)
    get_user_model().objects.filter(pk=user.pk).update(
        password=make_password(STAFF_PASSWORD, hasher="pbkdf2_sha256")
    )
    login_password_only(client, user)
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_sign_in_goes_on_to_the_second_factor(client):
    user = make_staff(Role.KEYWORKER)
    response = login_password_only(client, user)
    assert response.url.startswith(reverse("accounts:otp_verify"))


@pytest.mark.parametrize("url", [CASEWORK_URL, CASEWORK_URL + "12/", "/casework/"])
def test_password_only_session_never_reaches_a_client_data_url(client, url):
    user = make_staff(Role.KEYWORKER)
    login_password_only(client, user)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:otp_verify"))
    assert client.post(url, {"x": "1"}).status_code == 302


def test_password_only_session_is_refused_by_the_client_data_api(client):
    user = make_staff(Role.KEYWORKER)
    assert client.get(CASEWORK_API_URL).status_code == 401
    login_password_only(client, user)
    response = client.get(CASEWORK_API_URL)
    assert response.status_code == 403
    assert "Two-factor" in response.json()["detail"]


def test_anonymous_client_data_url_goes_to_sign_in(client):
    response = client.get(CASEWORK_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_verified_session_passes_the_middleware(client):
    user = make_staff(Role.KEYWORKER)
    login_verified(client, user)
    # Whatever the casework app answers there, it is not the MFA redirect.
    response = client.get(CASEWORK_URL)
    assert not (response.status_code == 302 and "two-factor" in response.get("Location", ""))
    assert _actions(user)[:2] == ["login", "mfa_verified"]


def test_wrong_code_is_refused_and_audited(client):
    user = make_staff(Role.KEYWORKER)
    login_password_only(client, user)
    response = client.post(reverse("accounts:otp_verify"), {"token": "000000"})
    assert response.status_code == 200
    assert "did not work" in response.content.decode()
    assert client.get(CASEWORK_URL).status_code == 302
    assert "mfa_failed" in _actions(user)


def test_setup_shows_a_qr_code_then_ten_recovery_codes_once(client):
    user = make_staff(Role.KEYWORKER, with_device=False)
    response = login_password_only(client, user)
    assert response.url.startswith(reverse("accounts:otp_setup"))
    page = client.get(response.url)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    token = f"{totp(device.bin_key):06d}"
    done = client.post(reverse("accounts:otp_setup"), {"token": token})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 == len(set(codes))
    device.refresh_from_db()
    assert device.confirmed
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)
    assert {"mfa_setup", "mfa_recovery_codes", "mfa_verified"} <= set(_actions(user))
    # Shown once: the security page lists how many are left, never the codes.
    home = client.get(reverse("accounts:home")).content.decode()
    assert "Recovery codes left: 10" in home and codes[0] not in home


def test_setup_cannot_replace_a_device_with_a_password_alone(client):
    user = make_staff(Role.KEYWORKER)
    login_password_only(client, user)
    response = client.get(reverse("accounts:otp_setup"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:otp_verify"))
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()


def test_a_recovery_code_works_once(client):
    from mutualaid.accounts.mfa import issue_recovery_codes

    user = make_staff(Role.KEYWORKER)
    codes = issue_recovery_codes(user)
    login_password_only(client, user)
    ok = client.post(reverse("accounts:otp_verify"), {"token": codes[3].upper()})
    assert ok.status_code == 302
    assert "mfa_recovery_used" in _actions(user)
    other = Client()
    login_password_only(other, user)
    again = other.post(reverse("accounts:otp_verify"), {"token": codes[3]})
    assert again.status_code == 200  # already used


def test_lockout_after_five_failures_for_one_username(client):
    user = make_staff(Role.KEYWORKER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            reverse("accounts:login"), {"username": user.username, "password": "wrong"}
        )
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    locked = client.post(reverse("accounts:login"), {"username": user.username, "password": "x"})
    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode()
    # Even the right password is refused now, from another address too.
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    refused = elsewhere.post(
        reverse("accounts:login"), {"username": user.username, "password": STAFF_PASSWORD}
    )
    assert refused.status_code == 429
    assert _actions().count("login_failed") >= settings.AXES_FAILURE_LIMIT
    assert "lockout" in _actions()


def test_lockout_after_five_failures_from_one_address():
    attacker = Client(REMOTE_ADDR="203.0.113.50")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("accounts:login"), {"username": f"guess{n}", "password": "x"})
    victim = make_staff(Role.KEYWORKER)
    response = attacker.post(
        reverse("accounts:login"), {"username": victim.username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 429
    # The victim, from their own address, can still sign in.
    login_password_only(Client(REMOTE_ADDR="198.51.100.20"), victim)


def test_session_settings_idle_thirty_minutes():
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_idle_session_is_ended_server_side(client):
    user = make_staff(Role.KEYWORKER)
    login_verified(client, user)
    assert client.get(reverse("accounts:home")).status_code == 200
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - 31 * 60
    session.save()
    response = client.get(CASEWORK_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    login_page = client.get(response.url).content.decode()
    assert "without activity" in login_page
    assert "session_expired" in _actions(user)


def test_activity_keeps_the_session_alive(client):
    user = make_staff(Role.KEYWORKER)
    login_verified(client, user)
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - 29 * 60
    session.save()
    assert client.get(reverse("accounts:home")).status_code == 200
    assert client.session[LAST_ACTIVITY_KEY] >= int(time.time()) - 5


def test_sign_out_everywhere_ends_every_session(client):
    user = make_staff(Role.KEYWORKER)
    laptop, phone = client, Client(REMOTE_ADDR="198.51.100.30")
    login_verified(laptop, user)
    login_verified(phone, user)
    assert phone.get(reverse("accounts:home")).status_code == 200
    response = laptop.post(reverse("accounts:sign_out_everywhere"))
    assert response.status_code == 302
    assert phone.get(reverse("accounts:home")).status_code == 302
    assert laptop.get(reverse("accounts:home")).status_code == 302
    assert "sessions_revoked" in _actions(user)
    # Signing in again works, and the new session is not affected.
    fresh = Client()
    login_verified(fresh, user)
    assert fresh.get(reverse("accounts:home")).status_code == 200


def test_sign_in_and_out_are_audited_and_chained(client):
    user = make_staff(Role.KEYWORKER)
    client.post(reverse("accounts:login"), {"username": user.username, "password": "nope"})
    login_verified(client, user)
    client.post(reverse("accounts:logout"))
    assert _actions() == ["login_failed", "login", "mfa_verified", "logout"]
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.actor_id is None and user.username in failed.actor_label
    assert failed.ip == "127.0.0.1"
    assert verify_chain()[0]


def test_admin_needs_a_verified_second_factor(client):
    boss = get_user_model().objects.create_superuser("boss", password=STAFF_PASSWORD)
    TOTPDevice.objects.create(user=boss, name="app", confirmed=True)
    login_password_only(client, boss)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url
    login_verified(Client(), boss)  # the real pages work for a superuser too


def test_issue_token_from_a_verified_session_only(client):
    user = make_staff(Role.KEYWORKER)
    login_password_only(client, user)
    form = {"name": "laptop", "scopes": ["casework:read"], "days": 30}
    refused = client.post(reverse("accounts:token_issue"), form)
    assert refused.status_code == 302 and "two-factor" in refused.url
    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("accounts:otp_verify"), {"token": current_totp(device)})
    shown = client.post(reverse("accounts:token_issue"), form)
    assert shown.status_code == 200
    plaintext = shown.context["plaintext"]
    assert plaintext.startswith("mat_")
    assert plaintext not in client.get(reverse("accounts:home")).content.decode()


def test_commissioner_cannot_issue_tokens(client):
    user = make_staff(Role.COMMISSIONER)
    login_verified(client, user)
    form = {"name": "x", "scopes": ["casework:read"], "days": 30}
    assert client.post(reverse("accounts:token_issue"), form).status_code == 403
