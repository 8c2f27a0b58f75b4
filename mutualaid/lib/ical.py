"""iCalendar (RFC 5545) for meetings: a recurring event in the meeting's own zone.

Calendar apps then show each occurrence at the right local time across DST changes,
and in the viewer's zone for online meetings.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from .schedule import Recurrence, localize


@dataclass(frozen=True)
class MeetingEvent:
    uid: str
    name: str
    weekday: int
    start: time
    duration_minutes: int
    timezone: str
    recurrence: Recurrence
    first_date: date  # the first occurrence on or after the day the calendar is made
    location: str = ""
    description: str = ""
    url: str = ""
    last_modified: datetime | None = None


def first_date_on_or_after(day: date, weekday: int, recurrence: Recurrence) -> date:
    candidate = day + timedelta(days=(weekday - day.weekday()) % 7)
    while not recurrence.occurs_on(candidate):
        candidate += timedelta(days=7)
    return candidate


def rrule_for(event: MeetingEvent) -> vRecur:
    return vRecur.from_ical(event.recurrence.to_rrule(event.weekday))


def build_calendar(events: list[MeetingEvent], *, name: str, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//mutualaid//meeting directory//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for item in events:
        zone = ZoneInfo(item.timezone)
        event = Event()
        event.add("uid", item.uid)
        event.add("summary", item.name)
        event.add("dtstamp", stamp)
        start = localize(item.first_date, item.start, zone)
        event.add("dtstart", start)
        event.add("duration", timedelta(minutes=item.duration_minutes))
        event.add("rrule", rrule_for(item))
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        if item.last_modified:
            event.add("last-modified", item.last_modified)
        calendar.add_component(event)
    # Zone rules from a year before the first event to ten years on: enough for any
    # calendar app, and a fraction of the default 1970-2038 table.
    first = min((e.first_date for e in events), default=stamp.date())
    calendar.add_missing_timezones(
        first_date=date(first.year - 1, 1, 1), last_date=date(first.year + 10, 1, 1)
    )
    return calendar.to_ical()
