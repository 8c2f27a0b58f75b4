"""The emails casework sends (Django's email backend: console in development, locmem in
tests, SMTP in production via EMAIL_* settings).

What each may contain (docs/security.md, casework data map):
- to a volunteer: the client's FIRST name, the meeting and the agreed contact; nothing
  else about the client; a signed link to accept or decline, and one to remove their details;
- to the client: the meeting and time only, with a discreet subject;
- to staff: the case reference and a link to sign in; never a name or a note.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext
from icalendar import Calendar, Event

from . import selectors
from .models import Introduction


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def introduction_link(intro: Introduction) -> str:
    return site_url(
        reverse("casework:volunteer-introduction", args=[selectors.introduction_token(intro)])
    )


def remove_link(volunteer) -> str:
    return site_url(
        reverse("casework:volunteer-remove", args=[selectors.volunteer_remove_token(volunteer)])
    )


def occurrence_ics(intro: Introduction, *, summary: str, description: str = "") -> bytes:
    """One event: this occurrence of the meeting, in the meeting's own zone."""
    meeting = intro.meeting
    start = intro.local_start
    calendar = Calendar()
    calendar.add("prodid", "-//mutualaid//casework reminder//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"introduction-{intro.pk}-{start:%Y%m%d}@{settings.SITE_NAME}")
    event.add("summary", summary)
    event.add("dtstamp", intro.requested_at)
    event.add("dtstart", start)
    event.add("duration", timedelta(minutes=meeting.duration_minutes))
    where = (
        meeting.conference_url
        if meeting.mode == "online"
        else ", ".join(p for p in [meeting.location_name, meeting.address] if p)
    )
    if where:
        event.add("location", where)
    if description:
        event.add("description", description)
    calendar.add_component(event)
    calendar.add_missing_timezones(
        first_date=date(start.year, 1, 1), last_date=date(start.year + 1, 12, 31)
    )
    return calendar.to_ical()


def _in_service_language(send):
    """Emails go out in the service's language (settings.LANGUAGE_CODE), whatever language
    the member of staff whose action sent them was reading the site in."""

    @functools.wraps(send)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return send(*args, **kwargs)

    return wrapper


def _day(moment, format_string: str = "l d F") -> str:
    """A date in words, in the active language ("Monday 30 November")."""
    return dateformat.format(moment, format_string)


def _send(*, to: str, subject: str, template: str, context: dict, ics: bytes | None = None):
    if not to:
        return 0
    body = render_to_string(template, context)
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    if ics is not None:
        message.attach("meeting.ics", ics, "text/calendar")
    return message.send()


def _meeting_context(intro: Introduction) -> dict:
    meeting = intro.meeting
    return {
        "intro": intro,
        "meeting": meeting,
        "start": intro.local_start,
        "online": meeting.mode == "online",
        "site_name": settings.SITE_NAME,
    }


@_in_service_language
def send_introduction_request(intro: Introduction) -> int:
    volunteer = intro.volunteer
    context = _meeting_context(intro) | {
        "volunteer": volunteer,
        "first_name": intro.shared_first_name,
        "link": introduction_link(intro),
        "remove_link": remove_link(volunteer),
        "link_days": settings.CASEWORK_INTRODUCTION_LINK_DAYS,
    }
    return _send(
        to=volunteer.email,
        subject=gettext("Could you help someone to a meeting on %(day)s?")
        % {"day": _day(intro.local_start)},
        template="casework/email/introduction_request.txt",
        context=context,
    )


@_in_service_language
def send_introduction_answer(intro: Introduction) -> int:
    """Tell the keyworker the volunteer's answer (case reference only)."""
    keyworker = intro.client.keyworker
    if keyworker is None or not keyworker.email:
        return 0
    context = _meeting_context(intro) | {
        "reference": intro.client.case_reference,
        "link": site_url(reverse("casework:client", args=[intro.client_id])),
    }
    return _send(
        to=keyworker.email,
        subject=gettext("Introduction %(answer)s (%(reference)s)")
        % {
            "answer": intro.get_status_display().lower(),
            "reference": intro.client.case_reference,
        },
        template="casework/email/introduction_answer.txt",
        context=context,
    )


@_in_service_language
def send_introduction_cancelled(intro: Introduction) -> int:
    volunteer = intro.volunteer
    if volunteer is None or not volunteer.email:
        return 0
    context = _meeting_context(intro) | {"volunteer": volunteer}
    return _send(
        to=volunteer.email,
        subject=gettext("Cancelled: the introduction on %(day)s")
        % {"day": _day(intro.local_start)},
        template="casework/email/introduction_cancelled.txt",
        context=context,
    )


@_in_service_language
def send_client_reminder(intro: Introduction) -> int:
    client = intro.client
    context = _meeting_context(intro) | {
        "first_name": client.first_name,
        "volunteer_name": intro.volunteer.display_name
        if intro.volunteer_id and intro.status == "accepted"
        else "",
    }
    ics = occurrence_ics(intro, summary=intro.meeting.name)
    return _send(
        to=client.contact_email,
        subject=gettext("Reminder: %(day)s at %(time)s")
        % {"day": _day(intro.local_start, "l"), "time": f"{intro.local_start:%H:%M}"},
        template="casework/email/client_reminder.txt",
        context=context,
        ics=ics,
    )


@_in_service_language
def send_volunteer_reminder(intro: Introduction) -> int:
    volunteer = intro.volunteer
    context = _meeting_context(intro) | {
        "volunteer": volunteer,
        "first_name": intro.shared_first_name,
        "remove_link": remove_link(volunteer),
    }
    ics = occurrence_ics(
        intro,
        summary=gettext("Introduction: %(name)s at %(meeting)s")
        % {"name": intro.shared_first_name, "meeting": intro.meeting.name},
        description=intro.agreed_contact,
    )
    return _send(
        to=volunteer.email,
        subject=gettext("Reminder: meeting %(name)s on %(day)s")
        % {"name": intro.shared_first_name, "day": _day(intro.local_start, "l")},
        template="casework/email/volunteer_reminder.txt",
        context=context,
        ics=ics,
    )
