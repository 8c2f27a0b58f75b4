"""The funnel on hand-built journeys, checked against numbers worked out by hand; and the
same journeys built through the casework services and read back by the selectors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mutualaid.insights import funnel as fn
from mutualaid.insights.funnel import Journey

AS_OF = date(2026, 6, 30)


def d(n: int) -> date:
    """Day n before AS_OF."""
    return AS_OF - timedelta(days=n)


def weekly(first: date, weeks: list[int]) -> list[date]:
    """The first meeting, then one meeting on day 7*w of each listed week."""
    return [first] + [first + timedelta(days=7 * w) for w in weeks]


def hand_built() -> list[Journey]:
    return [
        # 1 offered only
        Journey(1, offered_on=d(10)),
        # 2 discussed, no goal
        Journey(2, offered_on=d(40), discussed_on=d(39)),
        # 3 goal, no introduction
        Journey(3, offered_on=d(40), discussed_on=d(39), goal_on=d(39)),
        # 4 introduced (volunteer call), no meeting
        Journey(4, offered_on=d(40), discussed_on=d(39), goal_on=d(39), introduced_on=d(39),
                method="volunteer_call", fellowship="AA", approach="twelve_step"),
        # 5 first meeting 10 days ago (not yet due for 4 weeks); 9 days after the conversation
        Journey(5, offered_on=d(20), discussed_on=d(19), goal_on=d(19), introduced_on=d(19),
                method="volunteer_goes", fellowship="NA", approach="twelve_step",
                attendances=[d(10)]),
        # 6 first meeting 50 days ago, went in weeks 1 and 3 only: not weekly
        Journey(6, offered_on=d(60), discussed_on=d(60), goal_on=d(60), introduced_on=d(60),
                method="volunteer_goes", fellowship="NA", approach="twelve_step",
                attendances=weekly(d(50), [1, 3])),
        # 7 first meeting 40 days ago, weeks 1, 2, 4: weekly; 12 weeks not yet due
        Journey(7, offered_on=d(45), discussed_on=d(44), goal_on=d(44), introduced_on=d(44),
                method="information", fellowship="SMART", approach="secular",
                attendances=weekly(d(40), [1, 2, 4])),
        # 8 weekly, 100 days since first; check-in on day 84 shows 1 way only: not active
        Journey(8, offered_on=d(110), discussed_on=d(108), goal_on=d(108),
                introduced_on=d(108), method="volunteer_call", fellowship="AA",
                approach="twelve_step", attendances=weekly(d(100), [1, 2, 3, 4]),
                check_ins=[(d(16), 1)]),
        # 9 weekly, 120 days; check-ins on day 60 (5 ways, outside the window) and day 90
        #   (3 ways): active
        Journey(9, offered_on=d(130), discussed_on=d(125), goal_on=d(125),
                introduced_on=d(125), method="volunteer_goes", fellowship="AA",
                approach="twelve_step", attendances=weekly(d(120), [1, 2, 3]),
                check_ins=[(d(60), 5), (d(30), 3)]),
        # 10 went to a meeting on their own: no goal or introduction recorded; 95 days ago,
        #    weeks 2, 3, 4; check-in on day 84 with 2 ways: active (counts as every step)
        Journey(10, offered_on=d(100), discussed_on=d(98), attendances=weekly(d(95), [2, 3, 4]),
                check_ins=[(d(11), 2)]),
    ]  # fmt: skip


def test_categories_by_hand():
    got = [j.category(AS_OF) for j in hand_built()]
    assert got == [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert fn.category_counts(hand_built(), AS_OF) == [1, 1, 1, 1, 1, 1, 1, 1, 2]


def test_funnel_by_hand():
    steps = {s.key: s for s in fn.funnel(hand_built(), AS_OF)}
    # reached: offered 10; discussed 9; goal 8; introduced 7; first meeting 6;
    # weekly at 4 weeks: 7, 8, 9, 10 -> 4; active at 12 weeks: 9, 10 -> 2
    assert [s.reached for s in steps.values()] == [10, 9, 8, 7, 6, 4, 2]
    assert steps["discussed"].conversion == 90.0
    assert steps["goal"].conversion == pytest.approx(88.9)  # 8 / 9
    assert steps["introduced"].conversion == 87.5  # 7 / 8
    assert steps["first_meeting"].conversion == pytest.approx(85.7)  # 6 / 7
    assert steps["first_meeting"].of_offered == 60.0
    # weekly at 4 weeks: due = 6 (first meeting >= 28 days ago) minus client 5 -> 5 due;
    # 4 of 5 weekly
    assert steps["weekly_4"].base == 5 and steps["weekly_4"].not_yet_due == 1
    assert steps["weekly_4"].conversion == 80.0
    # active at 12 weeks: due = weekly and >= 84 days -> 8, 9, 10; 2 of 3
    assert steps["active_12"].base == 3 and steps["active_12"].not_yet_due == 1
    assert steps["active_12"].conversion == pytest.approx(66.7)


def test_weeks_and_check_in_choice():
    j9 = hand_built()[8]
    assert j9.weeks_attended() == 3
    assert j9.check_in_at_12_weeks() == (d(30), 3)  # day 90, not day 60 (outside 70-112)
    j6 = hand_built()[5]
    assert j6.weeks_attended() == 2


def test_median_days_by_hand():
    # conversation -> first meeting: 5: 9; 6: 10; 7: 4; 8: 8; 9: 5; 10: 3 -> median 6.5
    median, n = fn.median_days(hand_built())
    assert (median, n) == (6.5, 6)


def test_split_by_method_by_hand():
    items = [j for j in hand_built() if j.introduced_on]
    rows = {r.key: r for r in fn.split(items, lambda j: j.method, {}, AS_OF)}
    assert set(rows) == {"volunteer_call", "volunteer_goes", "information"}
    call, goes = rows["volunteer_call"], rows["volunteer_goes"]
    assert call.reached("introduced") == 2 and call.reached("first_meeting") == 1
    assert call.first_meeting_of_introduced == 50.0
    assert goes.reached("introduced") == 3 and goes.reached("first_meeting") == 3
    # volunteer goes: weekly due 6 and 9 (5 not yet due); 9 weekly -> 50 %
    assert goes.step("weekly_4").conversion == 50.0
    assert goes.step("active_12").conversion == 100.0  # 9 only


def test_funnel_from_suppressed_categories_hides_what_needs_a_hidden_figure():
    from mutualaid.lib.suppression import suppress_table

    counts = [12, 3, 20, 7, 0, 9, 6, 8, 10]
    table = suppress_table(counts)
    steps = fn.funnel_from_categories(table.cells, total=table.total)
    assert steps[0].reached == 75
    for step in steps:
        assert step.reached == "*" or isinstance(step.reached, int)
        assert step.reached == "*" or step.reached == 0 or step.reached >= 5
    # offered_only (12) is visible, discussed_only (3) hidden: discussed = 75 - 12 would
    # still be derivable from published figures, but the funnel never publishes more than
    # the table: every figure here is a sum of visible cells or hidden.
    visible_sum = sum(v for v in table.cells if v != "*")
    assert all(s.reached in ("*", table.total) or s.reached <= visible_sum for s in steps)


def test_barc_by_hand():
    items = [
        Journey(1, offered_on=d(200), barc10=[(d(100), 30), (d(70), 36), (d(40), 44)]),
        Journey(2, offered_on=d(200), barc10=[(d(90), 50), (d(50), 48)]),
        Journey(3, offered_on=d(200), barc10=[(d(20), 40)]),
    ]
    points = fn.barc_by_months_since_first(items, months=3)
    # block 0: 30 (client 1), 50 (2), 40 (3) -> 40.0; block 1: 36 (1, day 30) -> 36;
    # block 1 for client 2: day 40 -> block 1 -> 48: mean (36 + 48) / 2 = 42; block 2: 44
    assert [(p.label, p.n, p.mean) for p in points] == [
        ("0", 3, 40.0), ("1", 2, 42.0), ("2", 1, 44.0), ("3+", 0, None)
    ]  # fmt: skip
    assert points[0].at_or_above == 1
    assert fn.barc_change(items) == {"improved": 1, "same": 0, "lower": 1}
