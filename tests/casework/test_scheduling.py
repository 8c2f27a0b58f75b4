"""Reminder timing on the meeting's wall clock, across both UK DST changes; due dates."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from mutualaid.casework import scheduling
from mutualaid.lib import schedule

LONDON = ZoneInfo("Europe/London")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_reminder_is_the_evening_before_on_the_local_clock():
    starts = datetime(2026, 6, 10, 19, 0, tzinfo=LONDON)
    due = scheduling.reminder_due_at(starts)
    assert due.isoformat() == "2026-06-09T18:00:00+01:00"


def test_reminder_across_spring_forward():
    # Clocks go forward on Sunday 29 March 2026: the Saturday evening is GMT, the Sunday
    # meeting is BST. The reminder is still 18:00 on the Saturday wall clock.
    starts = schedule.next_occurrence(
        weekday=6, start=time(19, 0), tz=LONDON, now=utc(2026, 3, 27, 12)
    )
    assert starts.isoformat() == "2026-03-29T19:00:00+01:00"
    due = scheduling.reminder_due_at(starts)
    assert due.isoformat() == "2026-03-28T18:00:00+00:00"
    assert due.astimezone(UTC) == utc(2026, 3, 28, 18)


def test_reminder_across_fall_back():
    # Clocks go back on Sunday 25 October 2026: Saturday evening is BST, Monday is GMT.
    starts = datetime(2026, 10, 25, 19, 0, tzinfo=LONDON)
    due = scheduling.reminder_due_at(starts)
    assert due.astimezone(UTC) == utc(2026, 10, 24, 17)  # 18:00 BST
    monday = schedule.localize(date(2026, 10, 26), time(19), LONDON)
    assert scheduling.reminder_due_at(monday).astimezone(UTC) == utc(2026, 10, 25, 18)  # GMT


def test_reminder_in_the_meetings_zone_not_the_sites():
    new_york = ZoneInfo("America/New_York")
    starts = datetime(2026, 3, 8, 19, 0, tzinfo=new_york)  # US DST starts that day
    assert scheduling.reminder_due_at(starts).astimezone(UTC) == utc(2026, 3, 7, 23)


def test_reminder_is_due_between_the_evening_before_and_the_start():
    starts = datetime(2026, 6, 10, 19, 0, tzinfo=LONDON)
    assert not scheduling.reminder_is_due(starts, utc(2026, 6, 9, 16, 59))
    assert scheduling.reminder_is_due(starts, utc(2026, 6, 9, 17, 0))
    assert scheduling.reminder_is_due(starts, utc(2026, 6, 10, 12))  # arranged late: still
    assert not scheduling.reminder_is_due(starts, utc(2026, 6, 10, 18, 0))  # started


def test_naive_start_is_refused():
    with pytest.raises(ValueError, match="aware"):
        scheduling.reminder_due_at(datetime(2026, 6, 10, 19))


def test_upcoming_starts_are_in_order_and_keep_local_time_over_dst():
    starts = scheduling.upcoming_starts(
        weekday=6, start=time(19), zone_name="Europe/London", now=utc(2026, 3, 20, 12), count=3
    )
    assert [s.isoformat() for s in starts] == [
        "2026-03-22T19:00:00+00:00",
        "2026-03-29T19:00:00+01:00",
        "2026-04-05T19:00:00+01:00",
    ]


def test_upcoming_starts_skip_a_meeting_that_has_started():
    starts = scheduling.upcoming_starts(
        weekday=0, start=time(19), zone_name="Europe/London", now=utc(2026, 6, 8, 18, 5), count=1
    )
    assert starts[0].date() == date(2026, 6, 15)


@pytest.mark.parametrize(
    "last,status",
    [(None, "due"), (date(2026, 5, 20), "not yet"), (date(2026, 5, 1), "due"),
     (date(2026, 2, 1), "overdue")],
)  # fmt: skip
def test_barc_status(last, status):
    assert scheduling.barc_status(last, date(2026, 6, 10)) == status


def test_goal_date_in_the_past_is_a_clear_error():
    scheduling.check_goal_date(date(2026, 6, 10), date(2026, 6, 10))
    with pytest.raises(ValueError, match="in the past"):
        scheduling.check_goal_date(date(2026, 6, 9), date(2026, 6, 10))


def test_follow_up_and_revisit_dates():
    starts = datetime(2026, 6, 10, 19, tzinfo=LONDON)
    assert scheduling.follow_up_due_on(starts) == date(2026, 6, 12)
    assert scheduling.revisit_on(date(2026, 6, 10)) == date(2026, 7, 8)
