"""A volunteer removes their own details through their signed link: what the page says
about introductions still to come, what happens to them, what is kept."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.audit.models import AuditEvent
from mutualaid.casework import selectors, services
from mutualaid.casework.models import Introduction, IntroductionStatus, Volunteer
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def arranged():
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    keyworker.email = "kw@example.org"
    keyworker.save()
    volunteer = make_volunteer(keyworker, name="Morwenna", phone="07700 900123")
    meeting = brighton_meeting()
    intros = []
    for n in range(2):
        client = make_client(keyworker)
        services.record_consent(actor=keyworker, client=client, scope="volunteer_introduction")
        intros.append(
            services.arrange_introduction(
                actor=keyworker,
                client=client,
                meeting=meeting,
                starts_at=meeting.next_start(timezone.now() + timedelta(days=1 + 7 * n)),
                kind="volunteer_meets",
                volunteer=volunteer,
                agreed_contact="At the door",
            )  # fmt: skip
        )
    services.respond_to_introduction(introduction=intros[0], accept=True)
    url = reverse("casework:volunteer-remove", args=[selectors.volunteer_remove_token(volunteer)])
    return volunteer, intros, url


def test_the_page_lists_what_removal_calls_off(arranged):
    volunteer, intros, url = arranged
    page = HttpClient().get(url).content.decode()
    assert 'id="pending-introductions"' in page
    assert page.count("Brighton Newcomers") == 2 and "you said yes" in page
    assert "these 2 introductions are called off" in page


def test_removal_hands_introductions_back_and_keeps_the_journeys(
    arranged, django_capture_on_commit_callbacks
):
    volunteer, intros, url = arranged
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = HttpClient().post(url, {"confirm": "yes"})
    text = done.content.decode()
    assert "Your details are removed" in text and "The 2 introductions" in text
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.email, volunteer.phone) == ("", "", "")
    assert volunteer.display_name == "A volunteer (details removed)"
    for intro in intros:
        intro.refresh_from_db()
        assert intro.status == IntroductionStatus.DECLINED
        assert Introduction.objects.filter(pk=intro.pk, volunteer=volunteer).exists()
    # Each keyworker is told (case reference only); the volunteer gets nothing more.
    assert [m.to for m in mail.outbox] == [["kw@example.org"], ["kw@example.org"]]
    assert all("Morwenna" not in m.body for m in mail.outbox)
    [event] = AuditEvent.objects.filter(action="delete", target_type="casework.volunteer")
    assert event.actor_id is None and event.detail["via"] == "volunteer_link"
    assert sorted(event.detail["introductions"]) == sorted(i.pk for i in intros)
    assert "Morwenna" not in str(event.detail)
    # The link is spent, and no one can change the removed row.
    assert HttpClient().get(url).status_code == 410
    assert Volunteer.objects.get(pk=volunteer.pk).status == "removed"


def test_without_confirmation_nothing_is_removed(arranged):
    volunteer, intros, url = arranged
    HttpClient().post(url, {})
    volunteer.refresh_from_db()
    assert volunteer.name == "Morwenna" and volunteer.status == "active"
