"""Reporting a problem with a listing, and directory editors reviewing and verifying."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from mutualaid.accounts.models import Organisation
from mutualaid.directory.change_requests import (
    ReviewError,
    client_hash,
    file_change_request,
    mark_verified,
    review_change_request,
)
from mutualaid.directory.models import ChangeRequest, Meeting
from tests.factories import make_meeting

REPORT = {"kind": "wrong_time", "details": "It starts at 19:30 now", "contact_email": ""}


@pytest.fixture(autouse=True)
def empty_cache(db):
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def meeting(db):
    return make_meeting(name="Hope Group")


def report_url(m):
    return f"/meetings/{m.slug}/report/"


def editor(username="editor"):
    user = User.objects.create_user(username, password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get(name="Directory editors"))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def staff_without_permission(username="staff"):
    return User.objects.create_user(username, password="x" * 16, is_staff=True)


def admin_login(client, user):
    """Signed in as the admin requires: with a verified second factor where the site
    uses django-otp (an OTP admin site), a plain session otherwise."""
    client.force_login(user)
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


# --- the public form --------------------------------------------------------------


def test_meeting_page_links_to_the_report_form(client, meeting):
    body = client.get(meeting.get_absolute_url()).content.decode()
    assert f'href="{report_url(meeting)}"' in body
    assert "Report a problem with this listing" in body


def test_report_form_files_an_open_request_and_thanks(client, meeting):
    page = client.get(report_url(meeting))
    assert page.status_code == 200
    body = page.content.decode()
    assert "csrfmiddlewaretoken" in body and 'name="website"' in body
    for label in ("Wrong time or day", "Wrong place", "Meeting closed", "Online link broken"):
        assert label in body
    response = client.post(
        report_url(meeting),
        {**REPORT, "contact_email": "me@example.org"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    assert response["Location"] == f"/meetings/{meeting.slug}/report/thanks/"
    request = ChangeRequest.objects.get()
    assert request.meeting == meeting and request.kind == "wrong_time"
    assert request.details == "It starts at 19:30 now"
    assert request.contact_email == "me@example.org"
    assert request.status == "open" and request.reviewer is None
    # The address is never stored: only a keyed hash with today's salt.
    assert "203.0.113.9" not in request.client_hash
    assert request.client_hash == client_hash("203.0.113.9")
    assert len(request.client_hash) == 64
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and "Thank you" in thanks.content.decode()


def test_address_hash_changes_every_day():
    from datetime import date

    assert client_hash("203.0.113.9", day=date(2026, 1, 1)) != client_hash(
        "203.0.113.9", day=date(2026, 1, 2)
    )


def test_other_needs_details(client, meeting):
    response = client.post(report_url(meeting), {"kind": "other", "details": " "})
    assert response.status_code == 400
    assert "Please say what is wrong" in response.content.decode()
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "nonsense"},
        {"kind": "wrong_time", "details": "x" * 2001},
        {"kind": "wrong_time", "contact_email": "not an email"},
        {"kind": "wrong_time\x00", "details": "a"},
        {"kind": "wrong_time", "details": "nul \x00 byte"},
        {"kind": "wrong_time", "contact_email": "a@b.c\x00"},
        {"kind": "💥" * 1000, "details": "💥" * 3000, "contact_email": "💥@💥"},
    ],
)
def test_garbage_is_a_400_form_never_a_500(client, meeting, data):
    response = client.post(report_url(meeting), data)
    assert response.status_code == 400
    assert not ChangeRequest.objects.exists()


def test_garbage_urls_and_methods_never_500(client, meeting):
    assert client.get("/meetings/no-such-meeting/report/").status_code == 404
    assert client.get("/meetings/%00/report/").status_code == 404
    assert client.put(report_url(meeting), {}).status_code == 405
    assert client.post(f"/meetings/{meeting.slug}/report/thanks/").status_code == 405
    assert client.get(report_url(meeting), {"kind": "\x00"}).status_code == 200
    # Repeated fields: the last value counts, as everywhere in Django.
    response = client.post(report_url(meeting), {"kind": ["nonsense", "closed"], "details": ["a"]})
    assert response.status_code == 302


def test_restricted_and_removed_meetings_cannot_be_reported_publicly(client):
    prison = Organisation.objects.create(name="HMP", slug="hmp")
    for m in (
        make_meeting(name="Inside", visibility="restricted", organisation=prison),
        make_meeting(name="Gone", status="removed"),
    ):
        assert client.get(report_url(m)).status_code == 404
        assert client.post(report_url(m), REPORT).status_code == 404
    assert not ChangeRequest.objects.exists()


def test_a_duplicate_listing_is_reported_on_its_primary(client, meeting):
    copy = make_meeting(name="Hope Group", duplicate_of=meeting)
    response = client.get(report_url(copy))
    assert response.status_code == 302 and response["Location"] == report_url(meeting)


def test_honeypot_files_nothing_but_looks_like_success(client, meeting):
    response = client.post(report_url(meeting), {**REPORT, "website": "http://spam.example"})
    assert response.status_code == 302 and response["Location"].endswith("/thanks/")
    assert not ChangeRequest.objects.exists()


def test_csrf_is_required(meeting):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(report_url(meeting), REPORT).status_code == 403
    page = strict.get(report_url(meeting))
    token = page.cookies["csrftoken"].value
    response = strict.post(report_url(meeting), {**REPORT, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ChangeRequest.objects.count() == 1


def test_five_reports_an_hour_from_one_address(client, meeting, settings):
    others = [make_meeting(name=f"Other {i}") for i in range(6)]
    for m in others[:5]:
        assert client.post(report_url(m), REPORT, REMOTE_ADDR="198.51.100.1").status_code == 302
    response = client.post(report_url(others[5]), REPORT, REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 429
    assert "Too many reports" in response.content.decode()
    assert ChangeRequest.objects.count() == 5
    # Another address is not held back.
    assert client.post(report_url(meeting), REPORT, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_twenty_reports_a_day_on_one_meeting(client, meeting):
    for i in range(20):
        response = client.post(report_url(meeting), REPORT, REMOTE_ADDR=f"198.51.100.{i}")
        assert response.status_code == 302
    response = client.post(report_url(meeting), REPORT, REMOTE_ADDR="198.51.100.200")
    assert response.status_code == 429
    assert ChangeRequest.objects.count() == 20
    other = make_meeting(name="Other")
    assert client.post(report_url(other), REPORT, REMOTE_ADDR="198.51.100.200").status_code == 302


def test_behind_a_proxy_the_forwarded_address_is_limited(client, settings):
    settings.BEHIND_PROXY = True
    meetings = [make_meeting(name=f"M{i}") for i in range(7)]
    for m in meetings[:5]:
        response = client.post(report_url(m), REPORT, HTTP_X_FORWARDED_FOR="192.0.2.7")
        assert response.status_code == 302
    assert (
        client.post(report_url(meetings[5]), REPORT, HTTP_X_FORWARDED_FOR="192.0.2.7").status_code
        == 429
    )
    assert (
        client.post(report_url(meetings[6]), REPORT, HTTP_X_FORWARDED_FOR="192.0.2.8").status_code
        == 302
    )


# --- the services -----------------------------------------------------------------


def test_file_change_request_validates(meeting):
    with pytest.raises(ValidationError):
        file_change_request(meeting=meeting, kind="nope")
    with pytest.raises(ValidationError):
        file_change_request(meeting=meeting, kind="other", details="x" * 2001)
    with pytest.raises(TypeError):
        file_change_request(meeting, "wrong_time")  # keyword-only


def test_review_needs_permission_a_note_and_an_open_request(meeting):
    request = file_change_request(meeting=meeting, kind="closed", details="Hall shut")
    with pytest.raises(PermissionDenied):
        review_change_request(
            request=request, reviewer=staff_without_permission(), decision="accept", note="ok"
        )
    reviewer = editor()
    with pytest.raises(ReviewError):
        review_change_request(request=request, reviewer=reviewer, decision="accept", note="  ")
    with pytest.raises(ReviewError):
        review_change_request(request=request, reviewer=reviewer, decision="maybe", note="x")
    review_change_request(
        request=request, reviewer=reviewer, decision="accept", note="Marked closed"
    )
    request.refresh_from_db()
    assert request.status == "accepted" and request.reviewer == reviewer
    assert request.review_note == "Marked closed" and request.reviewed_at is not None
    with pytest.raises(ReviewError, match="already accepted"):
        review_change_request(request=request, reviewer=reviewer, decision="reject", note="no")


def test_mark_verified_needs_permission(meeting):
    with pytest.raises(PermissionDenied):
        mark_verified(meeting=meeting, user=staff_without_permission())
    user = editor()
    updated_at = Meeting.objects.get(pk=meeting.pk).updated_at
    mark_verified(meeting=meeting, user=user)
    fresh = Meeting.objects.get(pk=meeting.pk)
    assert fresh.last_verified_at is not None and fresh.verified_by == user
    assert fresh.updated_at == updated_at  # the listing itself did not change


# --- the admin --------------------------------------------------------------------

CHANGELIST = "/admin/directory/changerequest/"


def test_editors_group_has_the_right_permissions():
    group = Group.objects.get(name="Directory editors")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"change_meeting", "view_changerequest", "change_changerequest"} <= codenames
    assert not any(c.startswith("delete_") or c.startswith("add_") for c in codenames)


def test_changelist_shows_open_requests_with_meeting_and_source(client, meeting):
    from mutualaid.directory.models import Source

    meeting.source = Source.objects.create(name="AA feed", format="meeting-guide")
    meeting.save()
    open_one = file_change_request(meeting=meeting, kind="wrong_place", details="Moved hall")
    done = file_change_request(meeting=meeting, kind="other", details="Old news")
    review_change_request(request=done, reviewer=editor("e0"), decision="reject", note="no")
    admin_login(client, editor())
    body = client.get(CHANGELIST).content.decode()
    assert "Moved hall" in body and "Old news" not in body  # open ones by default
    assert "Hope Group" in body and "AA feed" in body
    assert "Old news" in client.get(CHANGELIST, {"status": "all"}).content.decode()
    page = client.get(f"{CHANGELIST}{open_one.pk}/change/")
    assert page.status_code == 200 and "Accept or reject" in page.content.decode()


def test_editor_accepts_with_a_note_via_the_action(client, meeting):
    requests = [file_change_request(meeting=meeting, kind="wrong_time") for _ in range(2)]
    user = editor()
    admin_login(client, user)
    ids = [str(r.pk) for r in requests]
    confirm = client.post(CHANGELIST, {"action": "accept_requests", "_selected_action": ids})
    assert confirm.status_code == 200 and "Note" in confirm.content.decode()
    assert ChangeRequest.objects.filter(status="open").count() == 2
    # No note: the page again, nothing reviewed.
    again = client.post(
        CHANGELIST, {"action": "accept_requests", "_selected_action": ids, "apply": "yes"}
    )
    assert again.status_code == 200 and "This field is required" in again.content.decode()
    assert ChangeRequest.objects.filter(status="open").count() == 2
    done = client.post(
        CHANGELIST,
        {
            "action": "accept_requests",
            "_selected_action": ids,
            "apply": "yes",
            "note": "Time corrected to 19:30",
        },
    )
    assert done.status_code == 302
    for r in ChangeRequest.objects.all():
        assert r.status == "accepted" and r.reviewer == user
        assert r.review_note == "Time corrected to 19:30"


def test_editor_rejects_one_request_from_its_page(client, meeting):
    request = file_change_request(meeting=meeting, kind="other", details="Spam")
    admin_login(client, editor())
    url = reverse("admin:directory_changerequest_review", args=[request.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"apply": "yes", "decision": "reject", "note": "Not about this"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "rejected" and request.review_note == "Not about this"


def test_staff_without_permission_cannot_review(client, meeting):
    request = file_change_request(meeting=meeting, kind="closed")
    admin_login(client, staff_without_permission())
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{request.pk}/change/").status_code == 403
    url = reverse("admin:directory_changerequest_review", args=[request.pk])
    assert client.post(url, {"apply": "yes", "decision": "accept", "note": "x"}).status_code == 403
    client.post(
        CHANGELIST,
        {
            "action": "accept_requests",
            "_selected_action": [request.pk],
            "apply": "yes",
            "note": "x",
        },
    )
    # Allowed to look, not to review: the actions are not offered to view-only staff.
    viewer = User.objects.create_user("viewer", password="x" * 16, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_changerequest"))
    admin_login(client, viewer)
    assert client.get(CHANGELIST).status_code == 200
    assert "accept_requests" not in client.get(CHANGELIST).content.decode()
    client.post(
        CHANGELIST,
        {
            "action": "accept_requests",
            "_selected_action": [request.pk],
            "apply": "yes",
            "note": "x",
        },
    )
    assert client.post(url, {"apply": "yes", "decision": "accept", "note": "x"}).status_code == 403
    request.refresh_from_db()
    assert request.status == "open" and request.reviewer is None


def test_mark_verified_action_records_when_and_who(client, meeting):
    user = editor()
    admin_login(client, user)
    response = client.post(
        "/admin/directory/meeting/",
        {"action": "mark_verified_action", "_selected_action": [meeting.pk]},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.last_verified_at is not None and meeting.verified_by == user
    page = client.get(f"/admin/directory/meeting/{meeting.pk}/change/").content.decode()
    assert f"{CHANGELIST}?meeting__id__exact={meeting.pk}" in page


def test_staff_without_permission_cannot_mark_verified(client, meeting):
    admin_login(client, staff_without_permission())
    response = client.post(
        "/admin/directory/meeting/",
        {"action": "mark_verified_action", "_selected_action": [meeting.pk]},
    )
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.last_verified_at is None and meeting.verified_by is None
