"""Volunteer ranking: fellowship, distance, availability, language, gender; hard limits."""

from datetime import time

import pytest

from mutualaid.casework import matching
from mutualaid.casework.matching import (
    ClientNeeds,
    MeetingFacts,
    Slot,
    VolunteerFacts,
    availability,
    parse_availability,
    rank,
)

BRIGHTON = (50.8225, -0.1372)
HOVE = (50.8279, -0.1688)  # ~2.3 km west
LONDON = (51.5074, -0.1278)  # ~76 km north

MONDAY_7PM = MeetingFacts(
    fellowship_code="AA", weekday=0, start=time(19, 0), lat=BRIGHTON[0], lng=BRIGHTON[1]
)
MONDAY_EVENING = (Slot(0, time(18, 0), time(22, 0)),)
WOMENS_MONDAY_7PM = MeetingFacts(
    fellowship_code="AA",
    weekday=0,
    start=time(19),
    lat=BRIGHTON[0],
    lng=BRIGHTON[1],
    types=frozenset({"women"}),
)


def volunteer(id, **fields):
    defaults = dict(
        name=f"V{id}",
        fellowship_codes=frozenset({"AA"}),
        lat=HOVE[0],
        lng=HOVE[1],
        languages=frozenset({"en"}),
        availability=MONDAY_EVENING,
        offers=frozenset(matching.OFFERS),
    )
    defaults.update(fields)
    return VolunteerFacts(id=id, **defaults)


def ids(matches):
    return [m.volunteer.id for m in matches]


def test_fellowship_outweighs_distance():
    near_na = volunteer(1, fellowship_codes=frozenset({"NA"}), lat=BRIGHTON[0], lng=BRIGHTON[1])
    far_aa = volunteer(2, lat=51.0, lng=-0.15)  # ~20 km
    assert ids(rank([near_na, far_aa], MONDAY_7PM, ClientNeeds())) == [2, 1]


def test_nearer_volunteer_ranks_first_and_distance_is_reported():
    near = volunteer(1)
    far = volunteer(2, lat=LONDON[0], lng=LONDON[1])
    matches = rank([far, near], MONDAY_7PM, ClientNeeds())
    assert ids(matches) == [1, 2]
    assert matches[0].distance_km == pytest.approx(2.3, abs=0.2)
    assert "2.2 km from the meeting" in matches[0].reasons or any(
        "km from the meeting" in r for r in matches[0].reasons
    )


def test_availability_at_the_meetings_time_counts():
    free = volunteer(1, lat=LONDON[0], lng=LONDON[1])
    busy = volunteer(2, availability=(Slot(2, time(9), time(12)),))
    matches = {m.volunteer.id: m for m in rank([free, busy], MONDAY_7PM, ClientNeeds())}
    assert matches[1].available == "yes"
    assert matches[2].available == "no"


def test_going_along_needs_half_an_hour_before_the_meeting():
    # Free 19:00-22:00 covers the meeting, but not 18:30 when they meet the client first.
    late = volunteer(1, availability=(Slot(0, time(19), time(22)),))
    needs = ClientNeeds(offer=matching.MEET_BEFORE)
    assert rank([late], MONDAY_7PM, needs)[0].available == "part"
    assert rank([late], MONDAY_7PM, ClientNeeds(offer=matching.PHONE_CALL))[0].available == "yes"


def test_slot_past_midnight_and_week_wrap():
    sunday_late = MeetingFacts(fellowship_code="AA", weekday=6, start=time(23, 30), online=True)
    wraps = volunteer(1, availability=(Slot(6, time(22), time(2)),))
    assert rank([wraps], sunday_late, ClientNeeds())[0].available == "yes"
    assert availability([Slot(6, time(23), time(0))], [(6 * 1440 + 23 * 60, 7 * 1440)]) == "yes"


def test_language_and_gender_preferences():
    english_man = volunteer(1, gender="male")
    polish_woman = volunteer(2, gender="Woman", languages=frozenset({"pl", "en"}))
    needs = ClientNeeds(languages=frozenset({"pl"}), volunteer_gender="female")
    matches = rank([english_man, polish_woman], MONDAY_7PM, needs)
    assert ids(matches) == [2, 1]
    assert "speaks pl" in matches[0].reasons
    assert "does not match the client's preference" in matches[1].reasons


def test_womens_meeting_needs_a_woman_to_go_in():
    man = volunteer(1, gender="man", lat=BRIGHTON[0], lng=BRIGHTON[1])
    woman = volunteer(2, gender="woman", lat=LONDON[0], lng=LONDON[1])
    assert ids(rank([man, woman], WOMENS_MONDAY_7PM, ClientNeeds(offer=matching.GO_ALONG))) == [
        2,
        1,
    ]
    # A phone call needs nobody to go in: the nearer one wins.
    assert ids(rank([man, woman], WOMENS_MONDAY_7PM, ClientNeeds(offer=matching.PHONE_CALL))) == [
        1,
        2,
    ]


def test_hard_limits_exclude_volunteers():
    withdrawn = volunteer(1, active=False)
    no_consent = volunteer(2, consented=False)
    no_contact = volunteer(3, contactable=False)
    phone_only = volunteer(4, offers=frozenset({matching.PHONE_CALL}))
    ok = volunteer(5)
    needs = ClientNeeds(offer=matching.GO_ALONG)
    assert ids(rank([withdrawn, no_consent, no_contact, phone_only, ok], MONDAY_7PM, needs)) == [5]
    assert matching.eligible(phone_only, needs) == "does not offer go along"


def test_online_meeting_ignores_distance_and_ties_break_by_id():
    online = MeetingFacts(fellowship_code="AA", weekday=0, start=time(19), online=True)
    a, b = volunteer(7, lat=LONDON[0], lng=LONDON[1]), volunteer(3)
    matches = rank([a, b], online, ClientNeeds())
    assert ids(matches) == [3, 7]
    assert matches[0].score == matches[1].score


def test_parse_availability_gives_plain_errors():
    assert parse_availability([{"weekday": 0, "start": "18:00", "end": "21:30"}]) == [
        Slot(0, time(18), time(21, 30))
    ]
    with pytest.raises(ValueError, match="availability 1"):
        parse_availability([{"weekday": 0, "start": "six"}])
    with pytest.raises(ValueError, match="Monday to Sunday"):
        parse_availability([{"weekday": 9, "start": "18:00", "end": "19:00"}])


@pytest.mark.parametrize(
    "text,key",
    [("F", "woman"), (" female ", "woman"), ("Male", "man"), ("non-binary", "non-binary")],
)
def test_gender_key_folds_common_words(text, key):
    assert matching.gender_key(text) == key


def test_reasons_are_in_the_keyworkers_language():
    from django.utils import translation

    man = volunteer(1, gender="man", languages=frozenset({"en"}))
    needs = ClientNeeds(offer=matching.GO_ALONG, languages=frozenset({"es"}))
    with translation.override("es"):
        reasons = rank([man], WOMENS_MONDAY_7PM, needs)[0].reasons
        refused = matching.eligible(volunteer(2, offers=frozenset()), needs)
    assert "miembro de AA" in reasons
    assert "no habla es" in reasons
    assert "libre a esa hora" in reasons
    assert "no puede entrar en una reunión solo para mujeres" in reasons
    assert any(r.startswith("a ") and r.endswith(" km de la reunión") for r in reasons), reasons
    assert any("," in r for r in reasons if r.endswith("km de la reunión"))  # 2,3 km
    assert refused == "no ofrece acompañar"
    with translation.override("en"):
        english = rank([man], WOMENS_MONDAY_7PM, needs)[0].reasons
    assert "member of AA" in english and "cannot go into a women-only meeting" in english
