"""Every casework write leaves its audit event (ids and field names, never content), in the
same transaction; bad input gives a clear message and loses nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.audit.models import AuditEvent
from mutualaid.casework import services
from mutualaid.casework.models import (
    Client,
    FollowUp,
    Introduction,
    IntroductionStatus,
    Stage,
    Volunteer,
    VolunteerStatus,
)
from mutualaid.directory.models import Status as MeetingStatus
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db

SECRET = "Relapsed after her brother's funeral"


@pytest.fixture
def keyworker():
    return make_staff(Role.KEYWORKER, make_organisation())


def events(target=None, **filters):
    qs = AuditEvent.objects.all()
    if target is not None:
        qs = qs.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    return list(qs.filter(**filters).order_by("seq"))


def next_start(meeting, days=1):
    return meeting.next_start(timezone.now() + timedelta(days=days))


def test_every_write_is_audited_with_field_names_not_content(keyworker):
    client = make_client(keyworker, preferences_note=SECRET)
    [created] = events(client, action="create")
    assert created.actor_id == keyworker.pk and created.organisation_id == client.organisation_id
    assert "preferences_note" in created.detail["fields"]
    services.update_client(actor=keyworker, client=client, preferences_note="Prefers mornings")
    [updated] = events(client, action="update")
    assert updated.detail == {"fields": ["preferences_note"]}
    assessment = services.record_assessment(
        actor=keyworker, client=client, previous_experience="none", outcome="interested",
        concerns=SECRET,
    )  # fmt: skip
    assert events(assessment, action="create")[0].detail["fields"] == ["concerns"]
    meeting = brighton_meeting()
    choice = services.choose_meeting(actor=keyworker, client=client, meeting=meeting)
    goal = services.set_goal(
        actor=keyworker, client=client, kind="attend_once", meeting=meeting,
        due_on=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    barc = services.record_barc10(actor=keyworker, client=client, items=[5] * 10)
    check_in = services.record_check_in(
        actor=keyworker, client=client, answers={"meetings_in_person": 2, "shared": True}
    )
    for target in (choice, goal, barc, check_in):
        assert len(events(target, action="create")) == 1, target
    every = " ".join(str(e.detail) for e in AuditEvent.objects.all())
    assert SECRET not in every and "Prefers mornings" not in every


def test_a_write_that_fails_leaves_no_event_and_no_row(keyworker):
    client = make_client(keyworker)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record_barc10(actor=keyworker, client=client, items=[3] * 10)
        raise RuntimeError("the request failed after the write")
    assert AuditEvent.objects.count() == before
    assert not client.barc10s.exists()


def test_services_refuse_someone_outside_the_caseload(keyworker):
    client = make_client(keyworker)
    stranger = make_staff(Role.KEYWORKER, make_organisation())
    with pytest.raises(PermissionDenied):
        services.record_barc10(actor=stranger, client=client, items=[3] * 10)
    commissioner = make_staff(Role.COMMISSIONER, client.organisation)
    with pytest.raises(PermissionDenied):
        services.create_client(actor=commissioner, case_reference="X", preferred_name="Y")


def test_client_coordinates_are_kept_to_about_a_kilometre(keyworker):
    client = make_client(keyworker, latitude=50.822531, longitude=-0.137163)
    assert (client.latitude, client.longitude) == (50.82, -0.14)


def test_duplicate_case_reference_is_a_clear_error(keyworker):
    make_client(keyworker, case_reference="BRS-1")
    with pytest.raises(ValidationError, match="already has this reference"):
        make_client(keyworker, case_reference="BRS-1")


def test_goal_in_the_past_is_refused_plainly(keyworker):
    client = make_client(keyworker)
    meeting = brighton_meeting()
    with pytest.raises(ValidationError, match="in the past"):
        services.set_goal(
            actor=keyworker, client=client, kind="attend_once", meeting=meeting,
            due_on=timezone.localdate() - timedelta(days=1),
        )  # fmt: skip


def test_assessment_outcomes_move_the_stage(keyworker):
    client = make_client(keyworker)
    services.record_assessment(
        actor=keyworker, client=client, previous_experience="none", outcome="not_now"
    )
    client.refresh_from_db()
    assert client.stage == Stage.ASSESS
    revisit = FollowUp.objects.get(client=client, kind="revisit")
    assert revisit.due_on == timezone.localdate() + timedelta(days=28)
    services.record_assessment(
        actor=keyworker, client=client, previous_experience="none", outcome="interested"
    )
    client.refresh_from_db()
    assert client.stage == Stage.CONNECT
    assert [c.to_stage for c in client.stage_changes.all()] == ["assess", "connect"]


def test_introduction_with_a_volunteer_needs_consent_and_an_active_volunteer(
    keyworker, django_capture_on_commit_callbacks, mailoutbox
):
    client = make_client(keyworker)
    meeting = brighton_meeting()
    volunteer = make_volunteer(keyworker)
    kwargs = dict(
        actor=keyworker, client=client, meeting=meeting, starts_at=next_start(meeting),
        kind="volunteer_goes", volunteer=volunteer, agreed_contact="At the door at 18:40",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="consent"):
        services.arrange_introduction(**kwargs)
    services.record_consent(actor=keyworker, client=client, scope="volunteer_introduction")
    services.withdraw_volunteer(actor=keyworker, volunteer=volunteer)
    with pytest.raises(ValidationError, match="has withdrawn: choose another one"):
        services.arrange_introduction(**kwargs)
    services.reinstate_volunteer(actor=keyworker, volunteer=volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        intro = services.arrange_introduction(**kwargs)
    assert len(mailoutbox) == 1
    from mutualaid.audit.selectors import disclosures_for

    [disclosure] = disclosures_for(client).filter(action="disclose")
    assert disclosure.detail["volunteer"] == volunteer.pk
    assert disclosure.detail["introduction"] == intro.pk
    assert disclosure.detail["fields"] == ["shared_first_name", "agreed_contact"]


def test_a_meeting_removed_from_the_directory_is_refused_but_kept(keyworker):
    client = make_client(keyworker)
    meeting = brighton_meeting()
    services.choose_meeting(actor=keyworker, client=client, meeting=meeting)
    meeting.status = MeetingStatus.REMOVED
    meeting.save()
    with pytest.raises(ValidationError, match="removed from the directory"):
        services.arrange_introduction(
            actor=keyworker, client=client, meeting=meeting,
            starts_at=next_start(meeting), kind="information",
        )  # fmt: skip
    assert client.meeting_choices.get().meeting == meeting  # nothing lost


def test_volunteer_withdrawing_returns_their_introductions_to_the_keyworker(
    keyworker, django_capture_on_commit_callbacks, mailoutbox
):
    keyworker.email = "kw@example.org"
    keyworker.save()
    client = make_client(keyworker)
    services.record_consent(actor=keyworker, client=client, scope="volunteer_introduction")
    meeting = brighton_meeting()
    volunteer = make_volunteer(keyworker)
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting, starts_at=next_start(meeting),
        kind="volunteer_meets", volunteer=volunteer, agreed_contact="Outside at 18:30",
    )  # fmt: skip
    services.respond_to_introduction(introduction=intro, accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_volunteer(volunteer=volunteer)
    intro.refresh_from_db()
    volunteer.refresh_from_db()
    assert intro.status == IntroductionStatus.DECLINED
    assert volunteer.status == VolunteerStatus.REMOVED
    assert volunteer.name == "" and volunteer.email == "" and not volunteer.fellowships.exists()
    assert volunteer.display_name == "A volunteer (details removed)"
    assert Introduction.objects.filter(pk=intro.pk).exists()  # the journey keeps it
    assert mailoutbox[-1].to == ["kw@example.org"]
    [erased] = events(volunteer, action="delete")
    assert erased.actor_id is None and erased.detail["via"] == "volunteer_link"


def test_closing_a_record_stops_links_and_coming_introductions(keyworker):
    client = make_client(keyworker)
    services.record_consent(actor=keyworker, client=client, scope="self_report")
    link, _ = services.create_self_report_link(actor=keyworker, client=client)
    meeting = brighton_meeting()
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting, starts_at=next_start(meeting),
        kind="keyworker_goes",
    )  # fmt: skip
    services.close_client(actor=keyworker, client=client)
    link.refresh_from_db()
    intro.refresh_from_db()
    assert link.revoked_at is not None
    assert intro.status == IntroductionStatus.ARRANGED  # no volunteer to tell; stays on record
    with pytest.raises(ValidationError, match="closed"):
        services.record_barc10(actor=keyworker, client=client, items=[3] * 10)
    services.reopen_client(actor=keyworker, client=client)
    assert Client.objects.get(pk=client.pk).is_active


def test_barc10_needs_ten_answers_from_1_to_6(keyworker):
    client = make_client(keyworker)
    with pytest.raises(ValidationError, match="all 10"):
        services.record_barc10(actor=keyworker, client=client, items=[3] * 9)
    with pytest.raises(ValidationError, match="1 to 6"):
        services.record_barc10(actor=keyworker, client=client, items=[7] + [3] * 9)
    barc = services.record_barc10(actor=keyworker, client=client, items=[5] * 9 + [2])
    assert barc.total == 47 and barc.at_or_above_threshold


def test_follow_up_attended_records_attendance_and_trying_another_goes_back_to_connect(
    keyworker,
):
    client = make_client(keyworker)
    meeting = brighton_meeting()
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting, starts_at=next_start(meeting),
        kind="information",
    )  # fmt: skip
    item = FollowUp.objects.get(introduction=intro)
    services.record_follow_up(
        actor=keyworker, client=client, follow_up=item, attended="yes", felt="hard",
        barriers="Too big a room", next_step="another_meeting",
    )  # fmt: skip
    client.refresh_from_db()
    assert client.stage == Stage.CONNECT
    attendance = client.attendances.get()
    assert attendance.meeting == meeting and attendance.source == "staff"
    assert client.meeting_choices.get(meeting=meeting).status == "not_suited"
    with pytest.raises(ValidationError, match="already recorded"):
        services.record_follow_up(actor=keyworker, client=client, follow_up=item)


def test_volunteer_is_not_told_anything_but_the_first_name(keyworker):
    client = make_client(keyworker, preferred_name="Alex Morgan-Smith")
    services.record_consent(actor=keyworker, client=client, scope="volunteer_introduction")
    meeting = brighton_meeting()
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting, starts_at=next_start(meeting),
        kind="volunteer_call", volunteer=make_volunteer(keyworker), agreed_contact="Call at 11",
    )  # fmt: skip
    assert intro.shared_first_name == "Alex"


def test_volunteers_belong_to_one_service(keyworker):
    volunteer = make_volunteer(keyworker)
    other = make_staff(Role.KEYWORKER, make_organisation())
    with pytest.raises(PermissionDenied):
        services.update_volunteer(actor=other, volunteer=volunteer, name="Changed")
    assert Volunteer.objects.get(pk=volunteer.pk).name == volunteer.name
