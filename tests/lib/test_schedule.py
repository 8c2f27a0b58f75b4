"""Next occurrences, DST transitions, weekday numbering at the edges, RRULE subset."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutualaid.lib import schedule
from mutualaid.lib.schedule import FORTNIGHTLY, MONTHLY, Recurrence, next_occurrence

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_weekday_numbering_at_the_edges():
    # Meeting Guide 0 = Sunday; BMLT 1 = Sunday; Python 0 = Monday.
    assert schedule.from_meeting_guide_day(0) == 6
    assert schedule.from_meeting_guide_day(1) == 0
    assert schedule.from_bmlt_weekday(1) == 6
    assert schedule.from_bmlt_weekday(2) == 0
    for weekday in range(7):
        assert schedule.from_meeting_guide_day(schedule.to_meeting_guide_day(weekday)) == weekday
        assert schedule.from_bmlt_weekday(schedule.to_bmlt_weekday(weekday)) == weekday
    with pytest.raises(ValueError):
        schedule.from_meeting_guide_day(7)
    with pytest.raises(ValueError):
        schedule.from_bmlt_weekday(0)


@pytest.mark.parametrize("text,expected", [("Monday", 0), ("mon", 0), ("SU", 6), ("thurs", 3)])
def test_parse_day(text, expected):
    assert schedule.parse_day(text) == expected


@pytest.mark.parametrize("text", ["", "m", "funday", "8"])
def test_parse_day_rejects(text):
    with pytest.raises(ValueError, match="unknown day"):
        schedule.parse_day(text)


@pytest.mark.parametrize("text", ["25:00", "18:60", "6pm", "", "18"])
def test_parse_hhmm_rejects(text):
    with pytest.raises(ValueError):
        schedule.parse_hhmm(text)


def test_london_spring_forward_evening_meeting_keeps_local_time():
    # Clocks go forward at 01:00 UTC on Sunday 29 March 2026.
    start = next_occurrence(weekday=6, start=time(19, 0), tz=LONDON, now=utc(2026, 3, 28, 12))
    assert start.isoformat() == "2026-03-29T19:00:00+01:00"
    assert start.astimezone(UTC) == utc(2026, 3, 29, 18)


def test_london_spring_forward_gap_time_moves_to_real_instant():
    # 01:30 does not exist on 29 March 2026 in London; the meeting happens at 02:30 BST.
    start = next_occurrence(weekday=6, start=time(1, 30), tz=LONDON, now=utc(2026, 3, 28, 12))
    assert start.isoformat() == "2026-03-29T02:30:00+01:00"


def test_london_fall_back_ambiguous_time_takes_first_instant():
    # 01:30 happens twice on 25 October 2026; the first is 00:30 UTC (BST).
    start = next_occurrence(weekday=6, start=time(1, 30), tz=LONDON, now=utc(2026, 10, 24, 12))
    assert start.astimezone(UTC) == utc(2026, 10, 25, 0, 30)


def test_london_week_across_october_change():
    # Seen from Saturday 24 Oct (BST), the Monday 26 Oct 19:00 meeting is in GMT.
    start = next_occurrence(weekday=0, start=time(19, 0), tz=LONDON, now=utc(2026, 10, 24, 12))
    assert start.isoformat() == "2026-10-26T19:00:00+00:00"
    assert start.astimezone(UTC) == utc(2026, 10, 26, 19)


def test_new_york_march_and_november_changes():
    # US DST starts Sunday 8 March 2026, ends Sunday 1 November 2026.
    march = next_occurrence(weekday=6, start=time(20, 0), tz=NEW_YORK, now=utc(2026, 3, 7, 12))
    assert march.astimezone(UTC) == utc(2026, 3, 9, 0)  # 20:00 EDT = 00:00 UTC
    november = next_occurrence(weekday=6, start=time(20, 0), tz=NEW_YORK, now=utc(2026, 10, 31, 12))
    assert november.astimezone(UTC) == utc(2026, 11, 2, 1)  # 20:00 EST = 01:00 UTC
    gap = next_occurrence(weekday=6, start=time(2, 30), tz=NEW_YORK, now=utc(2026, 3, 7, 12))
    assert gap.isoformat() == "2026-03-08T03:30:00-04:00"


def test_meeting_that_started_nine_minutes_ago_is_still_next():
    now = datetime(2026, 6, 1, 19, 9, tzinfo=LONDON)  # a Monday
    assert next_occurrence(weekday=0, start=time(19, 0), tz=LONDON, now=now) == datetime(
        2026, 6, 1, 19, 0, tzinfo=LONDON
    )
    later = now + timedelta(minutes=2)
    assert next_occurrence(weekday=0, start=time(19, 0), tz=LONDON, now=later).date() == date(
        2026, 6, 8
    )


def test_fortnightly_counts_from_anchor():
    rec = Recurrence(FORTNIGHTLY, anchor=date(2026, 1, 5))  # a Monday
    now = datetime(2026, 1, 6, 12, tzinfo=LONDON)
    assert next_occurrence(
        weekday=0, start=time(19, 0), tz=LONDON, now=now, recurrence=rec
    ).date() == date(2026, 1, 19)


@pytest.mark.parametrize(
    "nth,now_day,expected",
    [
        (1, date(2026, 11, 28), date(2026, 12, 7)),
        (2, date(2026, 11, 28), date(2026, 12, 14)),
        (5, date(2026, 11, 28), date(2026, 11, 30)),  # 30 Nov 2026 is the fifth Monday
        (5, date(2026, 12, 1), date(2027, 3, 29)),  # no fifth Monday in Dec, Jan or Feb
        (-1, date(2026, 11, 28), date(2026, 11, 30)),
        (-1, date(2026, 12, 1), date(2026, 12, 28)),
    ],
)
def test_monthly_nth_weekday(nth, now_day, expected):
    rec = Recurrence(MONTHLY, nth=nth)
    now = datetime.combine(now_day, time(12), tzinfo=LONDON)
    assert (
        next_occurrence(weekday=0, start=time(19, 0), tz=LONDON, now=now, recurrence=rec).date()
        == expected
    )


def test_rrule_round_trip():
    for rec in (
        Recurrence(),
        Recurrence(FORTNIGHTLY, anchor=date(2026, 1, 5)),
        Recurrence(MONTHLY, nth=-1),
    ):
        weekday, parsed = schedule.parse_rrule(rec.to_rrule(4), anchor=rec.anchor)
        assert (weekday, parsed) == (4, rec)
    with pytest.raises(ValueError, match="unsupported"):
        schedule.parse_rrule("FREQ=DAILY;BYDAY=MO")


@given(
    weekday=st.integers(0, 6),
    minute=st.integers(0, 1439),
    now=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    zone_name=st.sampled_from(
        ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
    ),
)
def test_next_occurrence_properties(weekday, minute, now, zone_name):
    tz = ZoneInfo(zone_name)
    start = time(minute // 60, minute % 60)
    found = next_occurrence(weekday=weekday, start=start, tz=tz, now=now)
    assert found >= now - schedule.STARTED_GRACE
    assert found - now < timedelta(days=7, hours=3)
    assert found.astimezone(tz).weekday() == weekday
    # The week before would have been too early.
    previous = found - timedelta(days=7)
    assert previous.astimezone(UTC) < now - schedule.STARTED_GRACE + timedelta(hours=3)
