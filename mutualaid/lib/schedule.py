"""Weekly, fortnightly and nth-weekday-of-month schedules in local wall-clock time.

Meetings are stored as local weekday + start time + IANA zone. Weekdays here follow
Python (0 = Monday ... 6 = Sunday); feeds number them differently and are mapped at the
edge with the helpers below. The recurrence is a subset of RFC 5545 RRULE:

    FREQ=WEEKLY;BYDAY=MO                       every Monday (the default)
    FREQ=WEEKLY;INTERVAL=2;BYDAY=MO            every other Monday, counted from an anchor date
    FREQ=MONTHLY;BYDAY=2MO / FREQ=MONTHLY;BYDAY=-1FR   nth (or last) weekday of the month
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
MINUTES_PER_WEEK = 7 * 24 * 60
# A meeting that started this recently still counts as "upcoming": people arrive late.
STARTED_GRACE = timedelta(minutes=10)

WEEKLY, FORTNIGHTLY, MONTHLY = "weekly", "fortnightly", "monthly"


# --- weekday numbering at the edges -------------------------------------------------


def from_meeting_guide_day(day: int) -> int:
    """Meeting Guide 0 = Sunday ... 6 = Saturday -> Python weekday."""
    if not 0 <= day <= 6:
        raise ValueError(f"Meeting Guide day must be 0..6 (0 = Sunday), got {day}")
    return (day + 6) % 7


def to_meeting_guide_day(weekday: int) -> int:
    return (weekday + 1) % 7


def from_bmlt_weekday(day: int) -> int:
    """BMLT 1 = Sunday ... 7 = Saturday -> Python weekday."""
    if not 1 <= day <= 7:
        raise ValueError(f"BMLT weekday must be 1..7 (1 = Sunday), got {day}")
    return (day + 5) % 7


def to_bmlt_weekday(weekday: int) -> int:
    return (weekday + 1) % 7 + 1


def parse_day(text: str) -> int:
    """A weekday typed by a person: 'monday', 'Mon', 'mo' -> 0."""
    cleaned = text.strip().lower()
    if len(cleaned) >= 2:
        for index, name in enumerate(DAY_NAMES):
            if name.lower().startswith(cleaned):
                return index
    raise ValueError(f"unknown day {text!r} (use a name such as Monday or Mon)")


def parse_hhmm(text: str) -> time:
    """'18:30' or '6:30' (24-hour) -> time. Rejects '25:00', '18:60', '6pm'."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", text or "")
    if not match:
        raise ValueError(f"time must be HH:MM (24-hour), got {text!r}")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour == 24 and minute == 0 and second == 0:
        return time(23, 59)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"time {text!r} is not a valid time of day")
    return time(hour, minute, second)


def zone(name: str) -> ZoneInfo:
    """An IANA zone by name, with a clear error for unknown names."""
    if not name or name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/London)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


_ZONE_NAMES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONE_NAMES
    if _ZONE_NAMES is None:
        _ZONE_NAMES = frozenset(available_timezones()) | {"UTC"}
    return _ZONE_NAMES


def minute_of_week(weekday: int, start: time) -> int:
    return weekday * 1440 + start.hour * 60 + start.minute


# --- recurrence ---------------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    frequency: str = WEEKLY
    nth: int | None = None  # MONTHLY: 1..5, or -1 for the last
    anchor: date | None = None  # FORTNIGHTLY: a date on which the meeting is held

    def __post_init__(self):
        if self.frequency not in (WEEKLY, FORTNIGHTLY, MONTHLY):
            raise ValueError(f"unknown frequency {self.frequency!r}")
        if self.frequency == MONTHLY and self.nth not in (1, 2, 3, 4, 5, -1):
            raise ValueError("a monthly meeting needs nth = 1..5 or -1 (last)")
        if self.frequency == FORTNIGHTLY and self.anchor is None:
            raise ValueError("a fortnightly meeting needs an anchor date it is held on")

    def occurs_on(self, day: date) -> bool:
        """Whether the meeting is held on this date, given that the weekday matches."""
        if self.frequency == WEEKLY:
            return True
        if self.frequency == FORTNIGHTLY:
            return (day - self.anchor).days % 14 == 0
        if self.nth == -1:
            return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return (day.day - 1) // 7 + 1 == self.nth

    def to_rrule(self, weekday: int) -> str:
        byday = RRULE_DAYS[weekday]
        if self.frequency == WEEKLY:
            return f"FREQ=WEEKLY;BYDAY={byday}"
        if self.frequency == FORTNIGHTLY:
            return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={byday}"
        return f"FREQ=MONTHLY;BYDAY={self.nth}{byday}"

    def describe(self, weekday: int) -> str:
        day = DAY_NAMES[weekday]
        if self.frequency == WEEKLY:
            return f"every {day}"
        if self.frequency == FORTNIGHTLY:
            return f"every other {day}"
        ordinal = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
        return f"{ordinal[self.nth]} {day} of the month"


WEEKLY_RECURRENCE = Recurrence()


def parse_rrule(rule: str, *, anchor: date | None = None) -> tuple[int, Recurrence]:
    """Parse the supported RRULE subset into (weekday, Recurrence)."""
    parts = {}
    for piece in rule.strip().removeprefix("RRULE:").split(";"):
        if "=" not in piece:
            raise ValueError(f"malformed RRULE part {piece!r}")
        key, value = piece.split("=", 1)
        parts[key.strip().upper()] = value.strip().upper()
    unsupported = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "WKST"}
    if unsupported:
        raise ValueError(f"unsupported RRULE parts: {', '.join(sorted(unsupported))}")
    match = re.fullmatch(r"(-1|[1-5])?(MO|TU|WE|TH|FR|SA|SU)", parts.get("BYDAY", ""))
    if not match:
        raise ValueError("RRULE needs one BYDAY such as MO, 2MO or -1FR")
    weekday = RRULE_DAYS.index(match[2])
    nth = int(match[1]) if match[1] else None
    interval = int(parts.get("INTERVAL", "1") or 1)
    freq = parts.get("FREQ")
    if freq == "WEEKLY" and interval == 1 and nth is None:
        return weekday, WEEKLY_RECURRENCE
    if freq == "WEEKLY" and interval == 2 and nth is None:
        return weekday, Recurrence(FORTNIGHTLY, anchor=anchor)
    if freq == "MONTHLY" and interval == 1 and nth is not None:
        return weekday, Recurrence(MONTHLY, nth=nth)
    raise ValueError(f"unsupported RRULE {rule!r}: weekly, fortnightly or nth weekday of month")


# --- occurrences --------------------------------------------------------------------


def localize(day: date, start: time, tz: ZoneInfo) -> datetime:
    """Wall-clock date and time in a zone as an aware datetime.

    In the spring-forward gap (e.g. 01:30 on the last Sunday of March in London) the
    meeting is taken to start at the same instant the clock would have shown had it not
    jumped (02:30 BST); in the autumn overlap the first of the two instants is used.
    """
    naive = datetime.combine(day, start)
    aware = naive.replace(tzinfo=tz, fold=0)
    # Round-trip through UTC normalises a non-existent wall time into a real one.
    return aware.astimezone(UTC).astimezone(tz)


def next_occurrence(
    *,
    weekday: int,
    start: time,
    tz: ZoneInfo,
    now: datetime,
    recurrence: Recurrence = WEEKLY_RECURRENCE,
    grace: timedelta = STARTED_GRACE,
) -> datetime:
    """The first start at or after `now - grace`, as an aware datetime in the meeting's zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    earliest = now - grace
    local_day = earliest.astimezone(tz).date() - timedelta(days=1)
    local_day += timedelta(days=(weekday - local_day.weekday()) % 7)
    # Monthly fifth-weekday meetings may skip several months; 60 weeks always suffices.
    for _ in range(60):
        if recurrence.occurs_on(local_day):
            candidate = localize(local_day, start, tz)
            if candidate >= earliest:
                return candidate
        local_day += timedelta(days=7)
    raise ValueError("no occurrence found within 60 weeks")
