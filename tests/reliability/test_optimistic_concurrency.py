"""Two people edit the same record: the second, made from what it read before the first
saved, is refused with a clear message and nothing is overwritten (docs/reliability.md,
"Conflicting edits"). Meetings (service, admin, import) and casework clients and goals
(service, web form, API)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from mutualaid.accounts.api_auth import issue_token
from mutualaid.accounts.models import Role
from mutualaid.casework import services as casework
from mutualaid.casework.models import Client, Goal, GoalKind
from mutualaid.directory.change_requests import (
    edit_meeting,
    file_change_request,
    mark_verified,
    review_change_request,
)
from mutualaid.directory.feeds import MeetingRecord
from mutualaid.directory.importing import apply_records
from mutualaid.directory.models import Meeting, Source
from mutualaid.ops.concurrency import EditConflict
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import make_client
from tests.directory.test_change_requests import admin_login
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def editor(username="editor"):
    user = get_user_model().objects.create_user(username, password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get(name="Directory editors"))
    return get_user_model().objects.get(pk=user.pk)


# --- meetings: the service ---------------------------------------------------------


def test_second_of_two_meeting_edits_from_the_same_version_is_refused():
    meeting = make_meeting(name="Hope Group")
    alice, bob = editor("alice"), editor("bob")
    read_by_both = meeting.version
    edit_meeting(meeting=meeting, user=alice, expected_version=read_by_both, changes={"notes": "A"})
    with pytest.raises(EditConflict) as conflict:
        edit_meeting(
            meeting=meeting, user=bob, expected_version=read_by_both, changes={"notes": "B"}
        )
    assert "changed by someone else" in conflict.value.messages[0]
    assert conflict.value.code == "conflict"
    meeting.refresh_from_db()
    assert meeting.notes == "A" and meeting.version == read_by_both + 1


def test_a_bad_value_in_an_edit_changes_nothing_not_even_the_version():
    meeting = make_meeting(name="Hope Group")
    with pytest.raises(Exception):  # noqa: B017 - ValidationError from full_clean
        edit_meeting(
            meeting=meeting, user=editor(), expected_version=1, changes={"timezone": "Mars/Base"}
        )
    meeting.refresh_from_db()
    assert meeting.version == 1 and meeting.timezone == "Europe/London"


def test_import_updates_and_verification_move_the_version_so_open_forms_conflict():
    source = Source.objects.create(name="feed", format="meeting-guide")
    record = MeetingRecord(
        row=1, source_ref="m1", slug="m1", name="Feed meeting", weekday=1,
        start_time=timezone.localtime().time().replace(microsecond=0, second=0),
        timezone="Europe/London", latitude=51.5, longitude=-0.1,
    )  # fmt: skip
    apply_records(source=source, records=[record])
    meeting = Meeting.objects.get(source_ref="m1")
    assert meeting.version == 1
    apply_records(source=source, records=[replace(record, notes="changed in the feed")])
    meeting.refresh_from_db()
    assert meeting.version == 2
    mark_verified(meeting=meeting, user=editor())
    assert Meeting.objects.get(pk=meeting.pk).version == 3
    with pytest.raises(EditConflict):
        edit_meeting(meeting=meeting, user=editor("late"), expected_version=1, changes={})


def test_accepting_a_report_with_a_stale_edit_leaves_report_and_meeting_as_they_were():
    meeting = make_meeting(name="Hope Group")
    report = file_change_request(meeting=meeting, kind="wrong_time", details="19:30 now")
    stale = meeting.version
    edit_meeting(meeting=meeting, user=editor("first"), expected_version=stale, changes={})
    with pytest.raises(EditConflict):
        review_change_request(
            request=report, reviewer=editor("second"), decision="accept", note="fixed",
            changes={"notes": "starts 19:30"}, expected_version=stale,
        )  # fmt: skip
    report.refresh_from_db()
    meeting.refresh_from_db()
    assert report.status == "open" and meeting.notes == ""


# --- meetings: the admin -----------------------------------------------------------


def _admin_post_data(form) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    return data


def test_admin_form_carries_the_version_and_refuses_a_stale_save(client):
    meeting = make_meeting(name="Hope Group")
    user = editor()
    admin_login(client, user)
    page = client.get(f"/admin/directory/meeting/{meeting.pk}/change/")
    assert page.status_code == 200
    assert b'type="hidden" name="version" value="1"' in page.content

    model_admin = admin.site._registry[Meeting]
    request = RequestFactory().get("/")
    request.user = user
    form_class = model_admin.get_form(request, meeting, change=True)
    stale = _admin_post_data(form_class(instance=meeting))
    # Someone else saves first.
    edit_meeting(meeting=meeting, user=editor("other"), expected_version=1, changes={"notes": "X"})

    response = client.post(
        f"/admin/directory/meeting/{meeting.pk}/change/", {**stale, "notes": "mine"}
    )
    assert response.status_code == 200  # the form again, with the message
    assert "changed by someone else" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.notes == "X" and meeting.version == 2

    # Starting again from what is stored now saves, and moves the version on.
    fresh = _admin_post_data(form_class(instance=meeting))
    with transaction.atomic():
        form = form_class({**fresh, "notes": "mine"}, instance=meeting)
        assert form.is_valid(), form.errors
        form.save()
    meeting.refresh_from_db()
    assert meeting.notes == "mine" and meeting.version == 3


# --- casework ----------------------------------------------------------------------


@pytest.fixture
def keyworker():
    return make_staff(Role.KEYWORKER, make_organisation())


def test_second_of_two_client_edits_is_refused_by_the_service(keyworker):
    client = make_client(keyworker)
    read = Client.objects.get(pk=client.pk)
    casework.update_client(
        actor=keyworker, client=client, expected_version=read.version, area_name="Hove"
    )
    with pytest.raises(EditConflict):
        casework.update_client(
            actor=keyworker, client=read, expected_version=read.version, area_name="Lewes"
        )
    assert Client.objects.get(pk=client.pk).area_name == "Hove"


def test_stage_changes_move_the_client_version(keyworker):
    client = make_client(keyworker)
    before = client.version
    casework.set_stage(actor=keyworker, client=client, stage="connect")
    assert Client.objects.get(pk=client.pk).version == before + 1


def test_client_web_form_says_so_on_a_conflict(client, keyworker):
    record = make_client(keyworker, preferred_name="Sam Original")
    login_verified(client, keyworker)
    url = f"/casework/clients/{record.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    assert f'name="version" value="{record.version}"'.encode() in page.content
    form = page.context["form"]
    stale = _admin_post_data(form)
    casework.update_client(actor=keyworker, client=record, preferred_name="Sam Changed")
    response = client.post(url, {**stale, "preferred_name": "Sam Overwrite"})
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    assert Client.objects.get(pk=record.pk).preferred_name == "Sam Changed"


def test_goal_review_twice_from_the_same_page_is_refused(keyworker):
    client = make_client(keyworker)
    goal = casework.set_goal(
        actor=keyworker, client=client, kind=GoalKind.OTHER, description="Call the helpline",
        due_on=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    read = goal.version
    casework.review_goal(actor=keyworker, goal=goal, status="met", expected_version=read)
    with pytest.raises(EditConflict):
        casework.review_goal(
            actor=keyworker, goal=Goal.objects.get(pk=goal.pk), status="not_met",
            expected_version=read,
        )  # fmt: skip
    assert Goal.objects.get(pk=goal.pk).status == "met"


def test_api_patch_with_a_stale_version_is_409_and_changes_nothing(client, keyworker):
    record = make_client(keyworker, area_name="Brighton")
    _, token = issue_token(user=keyworker, name="t", scopes=["casework:read", "casework:write"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/v1/casework/clients/{record.pk}"
    read = client.get(url, **headers).json()
    assert read["version"] == record.version
    ok = client.patch(
        url, {"version": read["version"], "area_name": "Hove"},
        content_type="application/json", **headers,
    )  # fmt: skip
    assert ok.status_code == 200, ok.content
    assert ok.json()["version"] == read["version"] + 1
    late = client.patch(
        url, {"version": read["version"], "area_name": "Lewes"},
        content_type="application/json", **headers,
    )  # fmt: skip
    assert late.status_code == 409
    assert "changed by someone else" in late.json()["detail"]
    assert Client.objects.get(pk=record.pk).area_name == "Hove"
