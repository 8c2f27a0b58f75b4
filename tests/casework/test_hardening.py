"""Hardening around client data (docs/security.md): request size limits, rate limits on
the link pages people use without an account, and errors and logs that never carry client
data or private-link tokens."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.casework import services
from mutualaid.casework.error_reports import redact_links
from mutualaid.casework.models import Assessment, Attendance
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client

pytestmark = pytest.mark.django_db

SECRET_NAME = "Philippa Oddlyspecific"
SECRET_NOTE = "Started drinking again after the funeral"


@pytest.fixture
def keyworker():
    return make_staff(Role.KEYWORKER, make_organisation())


@pytest.fixture
def link(keyworker):
    client = make_client(keyworker, preferred_name=SECRET_NAME)
    services.choose_meeting(actor=keyworker, client=client, meeting=brighton_meeting())
    services.record_consent(actor=keyworker, client=client, scope="self_report")
    link, token = services.create_self_report_link(actor=keyworker, client=client)
    return link, token, reverse("casework:self-report", args=[token])


# --- size limits ---------------------------------------------------------------------------


def test_a_form_body_over_the_limit_is_refused_and_stores_nothing(link, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    _, _, url = link
    browser = HttpClient()
    response = browser.post(
        url,
        {"form": "attendance", "a-attended_on": timezone.localdate().isoformat(),
         "padding": "x" * 20_000},
    )  # fmt: skip
    assert response.status_code == 400
    assert not Attendance.objects.exists()


def test_too_many_fields_are_refused(link, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    _, _, url = link
    data = {f"f{n}": "1" for n in range(60)} | {"form": "check_in"}
    assert HttpClient().post(url, data).status_code == 400


def test_an_api_body_over_the_limit_is_refused(keyworker, settings):
    from mutualaid.accounts.api_auth import issue_token

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = make_client(keyworker)
    _, token = issue_token(user=keyworker, name="t", scopes=["casework:write"])
    response = HttpClient().post(
        f"/api/v1/casework/clients/{client.pk}/attendance",
        '{"attended_on": "2026-01-01", "fellowship": "AA", "x": "' + "y" * 20_000 + '"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code in (400, 413)
    assert not Attendance.objects.filter(client=client).exists()


def test_the_default_limits_are_set():
    from django.conf import settings

    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 512 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000


# --- rate limits -----------------------------------------------------------------------------


def test_self_report_link_is_rate_limited_per_day(link, settings):
    settings.CASEWORK_SELF_REPORT_DAILY_LIMIT = 2
    _, _, url = link
    browser = HttpClient()
    data = {"form": "check_in", "c-meetings_in_person": "1", "c-meetings_online": "0"}
    assert [browser.post(url, data).status_code for _ in range(3)] == [302, 302, 429]


# --- errors and logs -----------------------------------------------------------------------


def _boom(*args, **kwargs):
    preferred_name = SECRET_NAME  # noqa: F841 - a local in the failing frame, as in real code
    raise RuntimeError("the database went away")


def test_a_failing_casework_page_leaks_nothing_to_logs_or_error_emails(keyworker, settings, caplog):
    settings.ADMINS = [("Ops", "ops@example.org")]
    client = make_client(keyworker, preferred_name=SECRET_NAME)
    browser = login_verified(HttpClient(raise_request_exception=False), keyworker)
    caplog.set_level(logging.DEBUG)
    mail.outbox.clear()
    with mock.patch("mutualaid.casework.services.record_assessment", side_effect=_boom):
        response = browser.post(
            f"/casework/clients/{client.pk}/assess/?area={SECRET_NAME.split()[1]}",
            {"held_on": timezone.localdate().isoformat(), "previous_experience": "none",
             "outcome": "interested", "concerns": SECRET_NOTE},
        )  # fmt: skip
    assert response.status_code == 500
    assert not Assessment.objects.exists()
    body = response.content.decode()
    [report] = [m for m in mail.outbox if m.to == ["ops@example.org"]]
    assert "the database went away" in report.body  # the report is still useful
    for secret in (SECRET_NAME, SECRET_NOTE, "Oddlyspecific", "Started drinking"):
        assert secret not in body and secret not in caplog.text and secret not in report.body


def test_private_link_tokens_are_cut_out_of_logs_and_reports(link, settings, caplog):
    settings.ADMINS = [("Ops", "ops@example.org")]
    _, token, url = link
    caplog.set_level(logging.INFO)
    mail.outbox.clear()
    browser = HttpClient(raise_request_exception=False)
    with mock.patch("mutualaid.casework.services.self_report_check_in", side_effect=_boom):
        response = browser.post(
            url, {"form": "check_in", "c-meetings_in_person": "1", "c-meetings_online": "0"}
        )
    assert response.status_code == 500
    assert "/my-meetings/[link]" in caplog.text
    assert token not in caplog.text
    [report] = [m for m in mail.outbox if m.to == ["ops@example.org"]]
    assert token not in report.subject and token not in report.body
    assert SECRET_NAME not in report.body
    # A bad request on a link page is logged without the token as well.
    caplog.clear()
    HttpClient().post(url, {"form": "attendance", "a-attended_on": "not a date"})
    assert token not in caplog.text


def test_redact_links_knows_every_private_link():
    for prefix in ("introductions", "volunteers/remove", "my-meetings"):
        assert redact_links(f"Bad Request: /{prefix}/eyJhIjoxfQ:1abc:xyz/") == (
            f"Bad Request: /{prefix}/[link]/"
        )
    assert redact_links("/casework/clients/4/") == "/casework/clients/4/"
