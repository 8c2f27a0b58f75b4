from datetime import time

import pytest
from icalendar import Calendar

from mutualaid.accounts.models import Organisation
from mutualaid.directory.models import Source
from tests.factories import make_meeting


@pytest.mark.django_db
def test_meeting_page_explains_it_in_plain_words(client):
    m = make_meeting(
        name="Hope Group",
        types=["closed", "wheelchair"],
        location_name="St Mary's Hall",
        street_address="1 High St",
        location_notes="Side door",
        source=Source.objects.create(name="AA feed", format="meeting-guide"),
    )
    body = client.get(m.get_absolute_url()).content.decode()
    assert "Closed meeting" in body and "alcohol" in body
    assert "Wheelchair access" in body
    assert "St Mary&#x27;s Hall" in body and "Side door" in body
    assert "openstreetmap.org" in body
    assert "Listed by AA feed" in body
    assert "Add to my calendar" in body


@pytest.mark.django_db
def test_online_meeting_page_shows_joining_details_and_viewer_time(client):
    m = make_meeting(
        name="Online Hope",
        mode="online",
        latitude=None,
        longitude=None,
        timezone="America/New_York",
        conference_url="https://zoom.us/j/1",
        conference_phone="+1 555 0100",
        start_time=time(20, 0),
    )
    body = client.get(m.get_absolute_url(), {"tz": "Europe/London"}).content.decode()
    assert "Join the online meeting" in body and "+1 555 0100" in body
    assert "your time (Europe/London)" in body
    assert "How to get there" not in body


@pytest.mark.django_db
def test_ics_is_a_recurring_event_in_the_meetings_zone(client):
    m = make_meeting(name="Last Monday", frequency="monthly", month_week=-1)
    response = client.get(f"/meetings/{m.slug}.ics")
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    event = next(iter(cal.walk("VEVENT")))
    assert event["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=-1MO"
    assert str(event["DTSTART"].dt.tzinfo) == "Europe/London"
    assert event["DTSTART"].dt.weekday() == 0 and event["DTSTART"].dt.hour == 19
    assert any(c.name == "VTIMEZONE" for c in cal.subcomponents)


@pytest.mark.django_db
def test_restricted_meeting_page_is_not_public(client):
    prison = Organisation.objects.create(name="HMP", slug="hmp")
    m = make_meeting(name="Inside", visibility="restricted", organisation=prison)
    assert client.get(m.get_absolute_url()).status_code == 404
    assert client.get(f"/meetings/{m.slug}.ics").status_code == 404


@pytest.mark.django_db
def test_duplicate_listing_redirects_to_primary(client):
    first = make_meeting(name="Hope")
    second = make_meeting(name="Hope", duplicate_of=first)
    response = client.get(second.get_absolute_url())
    assert response.status_code == 302 and response["Location"] == first.get_absolute_url()
