"""Casework pages: clear messages for bad input, nothing lost; no caching of client data;
meetings restricted to another service do not exist here; the API's OpenAPI lists it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.casework import services
from mutualaid.casework.models import Volunteer
from mutualaid.directory.models import Status as MeetingStatus
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyworker():
    return make_staff(Role.KEYWORKER, make_organisation())


@pytest.fixture
def browser(client, keyworker):
    login_verified(client, keyworker)
    return client


def test_client_pages_are_never_cached(browser, keyworker):
    person = make_client(keyworker)
    response = browser.get(f"/casework/clients/{person.pk}/")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_bad_client_form_input_is_explained(browser):
    response = browser.post(
        "/casework/clients/new/",
        {"case_reference": "", "preferred_name": "A", "area_name": "Nowhereville Zzz"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This field is required" in body
    assert "Nowhereville" in body and 'class="error field-error"' in body


def test_unknown_language_and_bad_availability_are_explained(browser):
    response = browser.post(
        "/casework/volunteers/new/",
        {"name": "Jo", "languages": "Klingon", "availability": "Someday 18:00-20:00"},
    )
    body = response.content.decode()
    assert "unknown language" in body
    assert "line 1" in body and "Monday 18:00-21:30" in body
    assert not Volunteer.objects.exists()


def test_volunteer_form_parses_availability(browser):
    response = browser.post(
        "/casework/volunteers/new/",
        {
            "name": "Jo",
            "languages": "English, Polish",
            "availability": "Monday 18:00-21:30\nsat 10:00-12:00",
            "offers_go_along": "on",
            "email": "jo@example.org",
            "consent_to_contact": "on",
        },
    )
    assert response.status_code == 302
    volunteer = Volunteer.objects.get()
    assert volunteer.languages == ["en", "pl"]
    assert volunteer.availability == [
        {"weekday": 0, "start": "18:00", "end": "21:30"},
        {"weekday": 5, "start": "10:00", "end": "12:00"},
    ]
    assert volunteer.consent_given_at is not None


def test_removed_meeting_is_explained_and_kept(browser, keyworker):
    person = make_client(keyworker)
    meeting = brighton_meeting()
    services.choose_meeting(actor=keyworker, client=person, meeting=meeting)
    meeting.status = MeetingStatus.REMOVED
    meeting.save()
    page = browser.get(f"/casework/clients/{person.pk}/").content.decode()
    assert "has been removed from the directory" in page and "Brighton Newcomers" in page
    response = browser.get(
        f"/casework/clients/{person.pk}/introductions/new/?meeting={meeting.pk}", follow=True
    )
    assert "removed from the directory: choose another meeting" in response.content.decode()


def test_withdrawn_volunteer_is_flagged_on_the_client_page(browser, keyworker):
    person = make_client(keyworker)
    services.record_consent(actor=keyworker, client=person, scope="volunteer_introduction")
    meeting = brighton_meeting()
    volunteer = make_volunteer(keyworker, name="Jo")
    services.arrange_introduction(
        actor=keyworker, client=person, meeting=meeting,
        starts_at=meeting.next_start(timezone.now() + timedelta(days=1)),
        kind="volunteer_goes", volunteer=volunteer, agreed_contact="At the door",
    )  # fmt: skip
    services.withdraw_volunteer(actor=keyworker, volunteer=volunteer)
    page = browser.get(f"/casework/clients/{person.pk}/").content.decode()
    assert "Volunteer declined" in page and "Arrange again" in page
    home = browser.get("/casework/").content.decode()
    assert "Declined: ask someone else" in home


def test_restricted_meeting_of_another_service_does_not_exist_here(browser, keyworker):
    person = make_client(keyworker)
    other = make_organisation()
    hidden = brighton_meeting(name="Prison Wing Group", visibility="restricted", organisation=other)
    response = browser.post(f"/casework/clients/{person.pk}/meetings/", {"meeting": hidden.pk})
    assert response.status_code == 302
    assert not person.meeting_choices.exists()
    with pytest.raises(services.ValidationError, match="no such meeting"):
        services.choose_meeting(actor=keyworker, client=person, meeting=hidden)
    own = brighton_meeting(
        name="Our Own Group", visibility="restricted", organisation=person.organisation
    )
    services.choose_meeting(actor=keyworker, client=person, meeting=own)


def test_meeting_search_page_shows_a_clear_error(browser, keyworker):
    person = make_client(keyworker)
    response = browser.get(
        f"/casework/clients/{person.pk}/meetings/", {"area": "Zzzqqq", "radius": "10"}
    )
    assert response.status_code == 400
    assert 'id="search-error"' in response.content.decode()


def test_closed_record_pages_say_so(browser, keyworker):
    person = make_client(keyworker)
    services.close_client(actor=keyworker, client=person)
    response = browser.get(f"/casework/clients/{person.pk}/assess/", follow=True)
    assert "closed. Reopen it to add to it" in response.content.decode()


def test_openapi_lists_the_casework_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/casework/clients" in paths
    assert "/api/v1/casework/clients/{pk}" in paths
    assert "/api/v1/casework/follow-ups" in paths


def test_follow_ups_list_filters_by_keyworker(client):
    from mutualaid.accounts.models import Team
    from mutualaid.casework.models import FollowUp

    org = make_organisation()
    team = Team.objects.create(organisation=org, name="North")
    ann = make_staff(Role.KEYWORKER, org, team, username="ann")
    bob = make_staff(Role.KEYWORKER, org, team, username="bob")
    lead = make_staff(Role.TEAM_LEAD, org, team)
    for keyworker in (ann, bob):
        person = make_client(keyworker)
        FollowUp.objects.create(client=person, kind="review", due_on=timezone.localdate())
    login_verified(client, lead)
    everyone = client.get("/casework/follow-ups/").content.decode()
    assert everyone.count("Record what happened") == 2 and 'id="keyworker-filter"' in everyone
    only_ann = client.get("/casework/follow-ups/", {"keyworker": "ann"}).content.decode()
    assert only_ann.count("Record what happened") == 1
