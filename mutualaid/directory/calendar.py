"""Meetings as iCalendar events (one meeting, or every result of a search)."""

from datetime import datetime

from django.conf import settings

from mutualaid.lib.ical import MeetingEvent, build_calendar, first_date_on_or_after

from .models import Meeting


def meeting_event(meeting: Meeting, *, now: datetime, base_url: str = "") -> MeetingEvent | None:
    if meeting.weekday is None or meeting.start_time is None:
        return None  # by appointment: nothing to put in a calendar
    today = now.astimezone(meeting.zoneinfo).date()
    lines = [meeting.fellowship.name]
    if meeting.conference_url:
        lines.append(f"Join online: {meeting.conference_url}")
    if meeting.conference_phone:
        lines.append(f"Join by phone: {meeting.conference_phone}")
    if meeting.location_notes:
        lines.append(meeting.location_notes)
    if meeting.notes:
        lines.append(meeting.notes)
    url = f"{base_url}{meeting.get_absolute_url()}" if base_url else ""
    return MeetingEvent(
        uid=f"meeting-{meeting.pk}@{settings.SITE_NAME}",
        name=f"{meeting.name} ({meeting.fellowship.code})",
        weekday=meeting.weekday,
        start=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        timezone=meeting.timezone,
        recurrence=meeting.recurrence,
        first_date=first_date_on_or_after(today, meeting.weekday, meeting.recurrence),
        location=", ".join(p for p in [meeting.location_name, meeting.address] if p)
        if meeting.mode != "online"
        else meeting.conference_url,
        description="\n".join(lines),
        url=url,
        last_modified=meeting.updated_at,
    )


def meetings_calendar(meetings, *, name: str, now: datetime, base_url: str = "") -> bytes:
    events = [e for m in meetings if (e := meeting_event(m, now=now, base_url=base_url))]
    return build_calendar(events, name=name, stamp=now)
