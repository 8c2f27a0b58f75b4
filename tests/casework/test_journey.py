"""The whole FAMA journey through the Django test client, as a keyworker, a volunteer and
a client would click it: stage 1 -> pick a meeting -> request a volunteer -> the volunteer
accepts by link -> the client self-reports by link -> the timeline and follow-ups show it."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.casework.models import (
    Attendance,
    Client,
    FollowUp,
    Introduction,
    IntroductionStatus,
    Stage,
)
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_volunteer

pytestmark = pytest.mark.django_db(transaction=False)


def test_keyworker_volunteer_and_client_journey(client, django_capture_on_commit_callbacks):
    org = make_organisation("Brighton Recovery Service")
    keyworker = make_staff(Role.KEYWORKER, org, username="kw")
    keyworker.email = "kw@example.org"
    keyworker.save()
    meeting = brighton_meeting()
    volunteer = make_volunteer(keyworker, name="Jo", email="jo@example.org")
    login_verified(client, keyworker)

    # Add the client.
    response = client.post(
        "/casework/clients/new/",
        {
            "case_reference": "BRS-0001",
            "preferred_name": "Sam Taylor",
            "keyworker": keyworker.pk,
            "area_name": "Brighton",
            "pref_fellowships": [meeting.fellowship.pk],
            "pref_times": ["evening"],
            "preferences_note": "Worried about having to speak",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sam = Client.objects.get(case_reference="BRS-0001")
    assert sam.stage == Stage.ASSESS and sam.latitude is not None

    # Stage 1: the conversation.
    response = client.post(
        f"/casework/clients/{sam.pk}/assess/",
        {
            "held_on": timezone.localdate().isoformat(),
            "previous_experience": "none",
            "concerns": "Being recognised",
            "guide_used": "on",
            "outcome": "interested",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/casework/clients/{sam.pk}/meetings/"
    sam.refresh_from_db()
    assert sam.stage == Stage.CONNECT

    # Stage 2: search with the client's preferences, pick the meeting.
    page = client.get(f"/casework/clients/{sam.pk}/meetings/")
    assert page.status_code == 200
    assert "Brighton Newcomers" in page.content.decode()
    response = client.post(f"/casework/clients/{sam.pk}/meetings/", {"meeting": meeting.pk})
    assert response.status_code == 302

    # A goal in the past is a clear form error; today is fine.
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    page = client.post(
        f"/casework/clients/{sam.pk}/goals/new/",
        {"kind": "attend_once", "meeting": meeting.pk, "due_on": past},
    )
    assert page.status_code == 200
    assert "is in the past: choose today or a later date" in page.content.decode()
    due = (timezone.localdate() + timedelta(days=14)).isoformat()
    response = client.post(
        f"/casework/clients/{sam.pk}/goals/new/",
        {"kind": "attend_once", "meeting": meeting.pk, "due_on": due},
    )
    assert response.status_code == 302

    # Consent first, then the volunteer request (ranked list shows Jo).
    client.post(
        f"/casework/clients/{sam.pk}/consent/",
        {"scope": "volunteer_introduction", "action": "give"},
    )
    page = client.get(f"/casework/clients/{sam.pk}/introductions/new/?meeting={meeting.pk}")
    body = page.content.decode()
    assert page.status_code == 200 and "Jo" in body and "member of AA" in body
    first_date = re.search(r'<option value="([^"]+)"', body.split('name="starts_at"')[1])[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/casework/clients/{sam.pk}/introductions/new/",
            {
                "meeting": meeting.pk,
                "starts_at": first_date,
                "kind": "volunteer_goes",
                "volunteer": volunteer.pk,
                "agreed_contact": "Meet at the front door at 18:40",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    intro = Introduction.objects.get(client=sam)
    assert intro.status == IntroductionStatus.REQUESTED
    assert len(mail.outbox) == 1
    request_mail = mail.outbox[0]
    assert request_mail.to == ["jo@example.org"]
    assert "Sam" in request_mail.body and "Taylor" not in request_mail.body
    assert "Worried" not in request_mail.body and "BRS-0001" not in request_mail.body
    link = re.search(r"http://[^\s]+/introductions/[^\s]+/", request_mail.body)[0]

    # The volunteer, with no account, opens the link and accepts.
    volunteer_browser = HttpClient()
    path = link.split("8000", 1)[1]
    page = volunteer_browser.get(path)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Sam" in body and "Brighton Newcomers" in body and "Meet at the front door" in body
    assert "Taylor" not in body and "BRS-0001" not in body and "Worried" not in body
    with django_capture_on_commit_callbacks(execute=True):
        response = volunteer_browser.post(path, {"answer": "accept"})
    assert response.status_code == 302
    intro.refresh_from_db()
    sam.refresh_from_db()
    assert intro.status == IntroductionStatus.ACCEPTED
    assert sam.stage == Stage.FOLLOW_UP
    assert mail.outbox[-1].to == ["kw@example.org"]
    assert "Sam" not in mail.outbox[-1].body  # staff email: case reference only

    # The client gets a self-report link (after consent) and records the meeting.
    client.post(f"/casework/clients/{sam.pk}/consent/", {"scope": "self_report", "action": "give"})
    page = client.post(f"/casework/clients/{sam.pk}/self-report-link/", {"days": "30"})
    url = re.search(r'id="self-report-url">([^<]+)<', page.content.decode())[1]
    phone = HttpClient()
    self_path = url.split("testserver", 1)[1]
    page = phone.get(self_path)
    assert page.status_code == 200 and "Brighton Newcomers" in page.content.decode()
    assert "Sam" not in page.content.decode()
    response = phone.post(
        self_path,
        {
            "form": "attendance",
            "a-meeting": meeting.pk,
            "a-attended_on": intro.local_start.date().isoformat()
            if intro.local_start.date() <= timezone.localdate()
            else timezone.localdate().isoformat(),
            "a-mode": "in_person",
            "a-felt": "ok",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = phone.post(
        self_path,
        {
            "form": "check_in",
            "c-meetings_in_person": "1",
            "c-meetings_online": "0",
            "c-shared": "on",
        },
    )
    assert response.status_code == 302
    assert Attendance.objects.get(client=sam).source == "self"

    # The keyworker's timeline and lists show it all.
    page = client.get(f"/casework/clients/{sam.pk}/")
    body = page.content.decode()
    for expected in (
        "Stage: 2. Connect",
        "Conversation about mutual aid: Interested",
        "Chose a meeting: Brighton Newcomers",
        "Goal set: Attend this meeting by the date",
        "Introduction arranged with Jo",
        "Volunteer accepted",
        "Went to a meeting (in person): Brighton Newcomers",
        "self-reported",
        "Engagement check-in",
    ):
        assert expected in body, expected
    assert "kw" in body  # who acted

    follow = FollowUp.objects.get(client=sam, introduction=intro)
    page = client.get("/casework/follow-ups/")
    assert page.status_code == 200
    assert f"/casework/clients/{sam.pk}/follow-up/{follow.pk}/" in page.content.decode()
    home = client.get("/casework/")
    assert "Introductions coming up (1)" in home.content.decode()
    assert "Volunteer accepted" in home.content.decode()
