"""When things happen in a client's journey: reminders, follow-ups, BARC-10 reviews.

Framework-free (no Django): aware datetimes in, aware datetimes or dates out. Meetings
keep wall-clock times in their own IANA zone, so "the evening before" is computed on that
wall clock, and is right on both sides of a DST change.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mutualaid.lib import schedule

# The evening before a meeting, on the meeting's own wall clock.
REMINDER_TIME = time(18, 0)
# A follow-up is due this many days after an introduced meeting (at the next session).
FOLLOW_UP_AFTER_DAYS = 2
# "Not now": ask again after four weeks.
REVISIT_AFTER_DAYS = 28
# BARC-10 every one to three months.
BARC_DUE_AFTER_DAYS = 30
BARC_OVERDUE_AFTER_DAYS = 91
# Engagement check-ins every four weeks or so while in stage 3.
CHECK_IN_DUE_AFTER_DAYS = 28


def reminder_due_at(starts_at: datetime, *, at: time = REMINDER_TIME) -> datetime:
    """The evening before `starts_at` (aware, in the meeting's zone) at `at`, same zone."""
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    tz = starts_at.tzinfo
    day_before = starts_at.date() - timedelta(days=1)
    if isinstance(tz, ZoneInfo):
        return schedule.localize(day_before, at, tz)
    return datetime.combine(day_before, at, tzinfo=tz)


def reminder_is_due(starts_at: datetime, now: datetime) -> bool:
    """Send now: the evening before has come and the meeting has not started yet.

    An introduction arranged after that evening still gets its reminder, straight away.
    """
    return reminder_due_at(starts_at) <= now < starts_at


def upcoming_starts(
    *,
    weekday: int,
    start: time,
    zone_name: str,
    now: datetime,
    count: int = 4,
    recurrence: schedule.Recurrence = schedule.WEEKLY_RECURRENCE,
) -> list[datetime]:
    """The next `count` starts of a meeting after `now`, in its zone (for picking a date)."""
    tz = schedule.zone(zone_name)
    found: list[datetime] = []
    cursor = now
    while len(found) < count:
        nxt = schedule.next_occurrence(
            weekday=weekday,
            start=start,
            tz=tz,
            now=cursor,
            recurrence=recurrence,
            grace=timedelta(0),
        )
        if nxt > now:
            found.append(nxt)
        cursor = nxt + timedelta(minutes=1)
    return found


def follow_up_due_on(starts_at: datetime) -> date:
    return starts_at.date() + timedelta(days=FOLLOW_UP_AFTER_DAYS)


def revisit_on(today: date) -> date:
    return today + timedelta(days=REVISIT_AFTER_DAYS)


def barc_status(last_taken: date | None, today: date) -> str:
    """'due' (never taken, or a month or more ago), 'overdue' (over three months), 'not yet'."""
    if last_taken is None:
        return "due"
    age = (today - last_taken).days
    if age > BARC_OVERDUE_AFTER_DAYS:
        return "overdue"
    if age >= BARC_DUE_AFTER_DAYS:
        return "due"
    return "not yet"


def check_goal_date(due_on: date, today: date) -> None:
    """A care-plan goal is set for today or later; the message says so plainly."""
    if due_on < today:
        raise ValueError(
            f"The goal date {due_on:%d %B %Y} is in the past: choose today or a later date."
        )
