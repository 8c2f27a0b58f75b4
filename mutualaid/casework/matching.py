"""Ranking volunteers ("recovery champions") for one introduction to one meeting.

Framework-free: plain dataclasses in, a ranked list out, so the rules are easy to test
and to explain to a keyworker. `services`/`views` turn models into these facts.

The rules, in order of weight (every point is explained in `Match.reasons`):
- hard limits: only active volunteers who consented to be contacted, who have a way to be
  contacted, and who offer what this introduction needs (a phone call, meeting the client
  before the meeting, going along, transport) are ranked at all;
- fellowship: a member of the meeting's fellowship knows its meetings (+40; none: -20);
- distance from the volunteer's area to the meeting (up to +25, nothing beyond 30 km;
  online meetings and phone calls do not depend on distance);
- availability at that meeting's time (+20 covering it, +8 overlapping part of it);
- language: speaks one of the client's languages (+10; none of them: -15);
- the client's preference about the volunteer's gender (+10 matching, -40 not), and a
  women-only or men-only meeting asks for a volunteer who can attend it (-40 otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop

# What an introduction needs the volunteer to offer (None: nothing to match).
PHONE_CALL, MEET_BEFORE, GO_ALONG, TRANSPORT = "phone_call", "meet_before", "go_along", "transport"
OFFERS = (PHONE_CALL, MEET_BEFORE, GO_ALONG, TRANSPORT)
OFFER_WORDS = {
    PHONE_CALL: gettext_noop("phone call"),
    MEET_BEFORE: gettext_noop("meet before"),
    GO_ALONG: gettext_noop("go along"),
    TRANSPORT: gettext_noop("transport"),
}


def offer_label(offer: str) -> str:
    """An offer in the reader's language ("does not offer ...")."""
    return gettext(OFFER_WORDS[offer]) if offer in OFFER_WORDS else offer.replace("_", " ")


FELLOWSHIP_MATCH, FELLOWSHIP_MISMATCH = 40.0, -20.0
DISTANCE_POINTS, DISTANCE_LIMIT_KM = 25.0, 30.0
AVAILABLE_ALL, AVAILABLE_PART = 20.0, 8.0
LANGUAGE_MATCH, LANGUAGE_MISMATCH = 10.0, -15.0
GENDER_MATCH, GENDER_MISMATCH = 10.0, -40.0
# Someone meeting the client beforehand arrives this much before the start.
MEET_BEFORE_MINUTES = 30
EARTH_RADIUS_KM = 6371.0088

# A few words people use for themselves, folded to the two that single-gender meetings
# need; anything else is kept as the person wrote it and matched as written.
_WOMAN = {"woman", "female", "f", "w", "women", "trans woman", "she"}
_MAN = {"man", "male", "m", "men", "trans man", "he"}


def gender_key(text: str | None) -> str:
    cleaned = " ".join((text or "").strip().lower().split())
    if cleaned in _WOMAN:
        return "woman"
    if cleaned in _MAN:
        return "man"
    return cleaned


@dataclass(frozen=True)
class Slot:
    """A weekly window a volunteer is free: local wall-clock time, 0 = Monday."""

    weekday: int
    start: time
    end: time  # exclusive; end <= start means it runs past midnight

    @classmethod
    def from_dict(cls, data: dict) -> Slot:
        return cls(int(data["weekday"]), _hhmm(data["start"]), _hhmm(data["end"]))

    def as_dict(self) -> dict:
        return {
            "weekday": self.weekday,
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }

    def minutes(self) -> list[tuple[int, int]]:
        """Minute-of-week ranges [a, b) this slot covers (two when it wraps the week)."""
        a = self.weekday * 1440 + self.start.hour * 60 + self.start.minute
        length = (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)
        if length <= 0:
            length += 1440
        b = a + length
        week = 7 * 1440
        if b <= week:
            return [(a, b)]
        return [(a, week), (0, b - week)]


def _hhmm(value) -> time:
    if isinstance(value, time):
        return value
    hours, minutes = str(value).strip().split(":")[:2]
    return time(int(hours), int(minutes))


def parse_availability(data) -> list[Slot]:
    """Stored JSON ([{"weekday": 0, "start": "18:00", "end": "21:30"}, ...]) -> slots.

    Raises ValueError with a plain message for anything malformed.
    """
    slots = []
    for index, item in enumerate(data or []):
        try:
            slot = Slot.from_dict(item)
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"availability {index + 1}: give a day and two times such as 18:00 and 21:30"
            ) from None
        if not 0 <= slot.weekday <= 6:
            raise ValueError(f"availability {index + 1}: day must be Monday to Sunday")
        slots.append(slot)
    return slots


@dataclass(frozen=True)
class VolunteerFacts:
    id: int
    name: str
    fellowship_codes: frozenset[str]
    lat: float | None = None
    lng: float | None = None
    languages: frozenset[str] = frozenset({"en"})
    gender: str = ""
    availability: tuple[Slot, ...] = ()
    offers: frozenset[str] = frozenset()
    active: bool = True
    consented: bool = True
    contactable: bool = True


@dataclass(frozen=True)
class MeetingFacts:
    fellowship_code: str
    weekday: int | None
    start: time | None
    duration_minutes: int = 60
    lat: float | None = None
    lng: float | None = None
    online: bool = False
    types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClientNeeds:
    languages: frozenset[str] = frozenset()
    volunteer_gender: str = ""  # "" = no preference
    offer: str | None = None  # what the introduction needs, one of OFFERS


@dataclass
class Match:
    volunteer: VolunteerFacts
    score: float
    distance_km: float | None
    available: str  # "yes", "part", "no", "unknown"
    reasons: list[str] = field(default_factory=list)


def distance_km(lat1, lng1, lat2, lng2) -> float | None:
    if None in (lat1, lng1, lat2, lng2):
        return None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def meeting_window(meeting: MeetingFacts, offer: str | None) -> list[tuple[int, int]]:
    """Minute-of-week ranges [a, b) around this meeting that the volunteer should be free:
    the meeting itself, plus half an hour before when they meet the client or go along."""
    if meeting.weekday is None or meeting.start is None:
        return []
    before = MEET_BEFORE_MINUTES if offer in (MEET_BEFORE, GO_ALONG, TRANSPORT) else 0
    week = 7 * 1440
    start = (
        meeting.weekday * 1440 + meeting.start.hour * 60 + meeting.start.minute - before
    ) % week
    end = start + before + meeting.duration_minutes
    if end <= week:
        return [(start, end)]
    return [(start, week), (0, end - week)]


def availability(slots: Sequence[Slot], needed: list[tuple[int, int]]) -> str:
    """'yes' when the slots cover every needed minute, 'part' when some, else 'no'."""
    if not needed:
        return "unknown"
    if not slots:
        return "no"
    covered: list[tuple[int, int]] = []
    for slot in slots:
        covered.extend(slot.minutes())
    total = sum(b - a for a, b in needed)
    inside = 0
    for a, b in needed:
        # Union of the covered ranges clipped to [a, b).
        clipped = sorted((max(a, c), min(b, d)) for c, d in covered if c < b and d > a)
        cursor = a
        for c, d in clipped:
            if d <= cursor:
                continue
            inside += d - max(c, cursor)
            cursor = d
    if inside >= total:
        return "yes"
    return "part" if inside > 0 else "no"


def eligible(volunteer: VolunteerFacts, needs: ClientNeeds) -> str | None:
    """Why this volunteer cannot be asked at all, or None if they can."""
    if not volunteer.active:
        return gettext("no longer volunteering")
    if not volunteer.consented:
        return gettext("has not consented to be contacted")
    if not volunteer.contactable:
        return gettext("has no contact details")
    if needs.offer and needs.offer not in volunteer.offers:
        return gettext("does not offer %(offer)s") % {"offer": offer_label(needs.offer)}
    return None


def score(volunteer: VolunteerFacts, meeting: MeetingFacts, needs: ClientNeeds) -> Match:
    points = 0.0
    reasons: list[str] = []
    if meeting.fellowship_code in volunteer.fellowship_codes:
        points += FELLOWSHIP_MATCH
        reasons.append(gettext("member of %(code)s") % {"code": meeting.fellowship_code})
    else:
        points += FELLOWSHIP_MISMATCH
        reasons.append(gettext("not a member of %(code)s") % {"code": meeting.fellowship_code})

    distance = None
    if meeting.online or needs.offer == PHONE_CALL:
        points += DISTANCE_POINTS
        reasons.append(gettext("distance does not matter (online or by phone)"))
    else:
        distance = distance_km(volunteer.lat, volunteer.lng, meeting.lat, meeting.lng)
        if distance is None:
            reasons.append(gettext("distance unknown"))
        else:
            points += DISTANCE_POINTS * max(0.0, 1.0 - distance / DISTANCE_LIMIT_KM)
            reasons.append(
                gettext("%(km)s km from the meeting") % {"km": number_format(distance, 1)}
            )

    free = availability(volunteer.availability, meeting_window(meeting, needs.offer))
    if free == "yes":
        points += AVAILABLE_ALL
        reasons.append(gettext("free at that time"))
    elif free == "part":
        points += AVAILABLE_PART
        reasons.append(gettext("free for part of that time"))
    elif free == "no":
        reasons.append(gettext("not usually free at that time"))

    if needs.languages:
        shared = sorted(needs.languages & volunteer.languages)
        if shared:
            points += LANGUAGE_MATCH
            reasons.append(gettext("speaks %(languages)s") % {"languages": ", ".join(shared)})
        else:
            points += LANGUAGE_MISMATCH
            reasons.append(
                gettext("does not speak %(languages)s")
                % {"languages": ", ".join(sorted(needs.languages))}
            )

    gender = gender_key(volunteer.gender)
    wanted = gender_key(needs.volunteer_gender)
    if wanted:
        if gender == wanted:
            points += GENDER_MATCH
            reasons.append(gettext("matches the client's preference"))
        else:
            points += GENDER_MISMATCH
            reasons.append(gettext("does not match the client's preference"))
    goes_in = needs.offer in (MEET_BEFORE, GO_ALONG)
    for kind, who, cannot in (
        ("women", "woman", gettext_noop("cannot go into a women-only meeting")),
        ("men", "man", gettext_noop("cannot go into a men-only meeting")),
    ):
        if goes_in and kind in meeting.types and gender != who:
            points += GENDER_MISMATCH
            reasons.append(gettext(cannot))
    return Match(volunteer, round(points, 2), distance, free, reasons)


def rank(
    volunteers: Iterable[VolunteerFacts], meeting: MeetingFacts, needs: ClientNeeds
) -> list[Match]:
    """Eligible volunteers, best first (ties: nearer, then lower id for a stable order)."""
    matches = [score(v, meeting, needs) for v in volunteers if eligible(v, needs) is None]
    matches.sort(
        key=lambda m: (
            -m.score,
            m.distance_km if m.distance_km is not None else math.inf,
            m.volunteer.id,
        )
    )
    return matches
