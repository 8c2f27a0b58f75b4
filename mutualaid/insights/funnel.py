"""The FAMA outcome funnel, framework-free: from each client's milestones (dates only, no
personal data) to counts, conversions and medians, with or without small-number
suppression.

Steps (a later step counts the earlier ones as passed: someone who went to a meeting
before an introduction was recorded counts as introduced):

0 offered          the client is on a caseload (mutual aid is offered to everyone)
1 discussed        a conversation about mutual aid is recorded (stage 1)
2 goal set         a care-plan goal about mutual aid
3 introduced       an introduction arranged (not cancelled, not declined)
4 first meeting    an attendance recorded (by staff or self-reported)
5 weekly at 4 wks  a meeting in at least WEEKLY_MIN_WEEKS of the WEEKLY_WEEKS weeks after
                   the first (days 1-7, 8-14, 15-21, 22-28); due 28 days after the first
6 active at 12 wks the engagement check-in nearest day 84 after the first meeting (taken
                   on days 70-112) shows at least ACTIVE_MIN_WAYS of the six ways of taking
                   part; due 84 days after the first meeting

Every client falls in exactly one of the nine CATEGORIES (the furthest step, with "not yet
due" split out), so a published table of categories, suppressed with
mutualaid.lib.suppression, determines every funnel figure, and a funnel figure that needs
a hidden category is hidden too (nothing is published that the table does not already say).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

from mutualaid.lib.suppression import SUPPRESSED, THRESHOLD

WEEKLY_WEEKS = 4
WEEKLY_MIN_WEEKS = 3
TWELVE_WEEKS_DAY = 84
CHECK_IN_WINDOW = (70, 112)
ACTIVE_MIN_WAYS = 2
PARTICIPATION_KEYS = ("shared", "sponsor", "contact_between", "tools", "service", "programme_work")

STEPS = [
    ("offered", _("Offered mutual aid")),
    ("discussed", _("Discussed (conversation recorded)")),
    ("goal", _("Goal set")),
    ("introduced", _("Introduction arranged")),
    ("first_meeting", _("First meeting attended")),
    ("weekly_4", _("Attending weekly at 4 weeks")),
    ("active_12", _("Actively participating at 12 weeks")),
]
CATEGORIES = [
    ("offered_only", _("Offered, not yet discussed")),
    ("discussed_only", _("Discussed, no goal yet")),
    ("goal_only", _("Goal set, no introduction yet")),
    ("introduced_only", _("Introduced, no meeting yet")),
    ("first_recent", _("First meeting, under 4 weeks ago")),
    ("not_weekly", _("First meeting, not weekly at 4 weeks")),
    ("weekly_recent", _("Weekly at 4 weeks, under 12 weeks ago")),
    ("not_active", _("Weekly at 4 weeks, not shown active at 12 weeks")),
    ("active", _("Actively participating at 12 weeks")),
]


@dataclass
class Journey:
    """One client's milestones. Dates only; `method` is the kind of the first live
    introduction, `fellowship` the code of its meeting's fellowship (else of the first chosen
    meeting), `approach` that fellowship's approach."""

    client_id: int
    offered_on: date
    organisation_id: int | None = None
    keyworker_id: int | None = None
    team_id: int | None = None
    discussed_on: date | None = None
    goal_on: date | None = None
    introduced_on: date | None = None
    method: str | None = None
    fellowship: str | None = None
    approach: str | None = None
    attendances: list[date] = field(default_factory=list)
    # check-ins: (taken_on, ways of taking part) for the one nearest day 84 (or all)
    check_ins: list[tuple[date, int]] = field(default_factory=list)
    barc10: list[tuple[date, int]] = field(default_factory=list)

    @property
    def first_meeting_on(self) -> date | None:
        return min(self.attendances) if self.attendances else None  # a few dates each

    def weeks_attended(self) -> int:
        first = self.first_meeting_on
        if first is None:
            return 0
        weeks = set()
        for day in self.attendances:
            offset = (day - first).days
            if 1 <= offset <= 7 * WEEKLY_WEEKS:
                weeks.add((offset - 1) // 7)
        return len(weeks)

    def check_in_at_12_weeks(self) -> tuple[date, int] | None:
        first = self.first_meeting_on
        if first is None:
            return None
        low, high = CHECK_IN_WINDOW
        target = first + timedelta(days=TWELVE_WEEKS_DAY)
        inside = [
            c for c in self.check_ins if low <= (c[0] - first).days <= high
        ]  # fmt: skip
        if not inside:
            return None
        # nearest day 84; on a tie the later one
        return min(inside, key=lambda c: (abs((c[0] - target).days), -c[0].toordinal()))

    def category(self, as_of: date) -> int:
        """Index into CATEGORIES: the furthest step reached as of `as_of` (remembered: the
        pages ask once per breakdown)."""
        cached = self.__dict__.get("_category")
        if cached is not None and cached[0] == as_of:
            return cached[1]
        found = self._category(as_of)
        self.__dict__["_category"] = (as_of, found)
        return found

    def _category(self, as_of: date) -> int:
        first = self.first_meeting_on
        if first is not None:
            days = (as_of - first).days
            check_in = self.check_in_at_12_weeks()
            active = (
                days >= TWELVE_WEEKS_DAY and check_in is not None and check_in[1] >= ACTIVE_MIN_WAYS
            )
            if active:
                return 8
            if days < 7 * WEEKLY_WEEKS:
                return 4
            if self.weeks_attended() < WEEKLY_MIN_WEEKS:
                return 5
            return 7 if days >= TWELVE_WEEKS_DAY else 6
        if self.introduced_on is not None:
            return 3
        if self.goal_on is not None:
            return 2
        if self.discussed_on is not None:
            return 1
        return 0

    def days_to_first_meeting(self) -> int | None:
        """Days from the first conversation to the first meeting after it (None if either
        is missing, or the client was already going before the conversation)."""
        if self.discussed_on is None or not self.attendances:
            return None
        after = [d for d in self.attendances if d >= self.discussed_on]
        return (min(after) - self.discussed_on).days if after else None


Figure = int | float | str | None  # a number, SUPPRESSED ("*"), or None (no figure)


def category_counts(journeys: Iterable[Journey], as_of: date) -> list[int]:
    counts = [0] * len(CATEGORIES)
    for journey in journeys:
        counts[journey.category(as_of)] += 1
    return counts


def _sum(values: Sequence[Figure]) -> Figure:
    if any(v == SUPPRESSED for v in values):
        return SUPPRESSED
    return sum(int(v) for v in values)


def percent(numerator: Figure, denominator: Figure) -> Figure:
    if numerator == SUPPRESSED or denominator == SUPPRESSED:
        return SUPPRESSED
    if not denominator:
        return None
    return round(100.0 * int(numerator) / int(denominator), 1)


@dataclass
class StepFigure:
    key: str
    label: str
    reached: Figure
    base: Figure  # who could have reached it: the previous step (or those due)
    not_yet_due: Figure
    conversion: Figure  # percent of base
    of_offered: Figure  # percent of everyone offered


def funnel_from_categories(c: Sequence[Figure], total: Figure = None) -> list[StepFigure]:
    """The seven steps from the nine category counts (any of which may be hidden); `total`,
    when published beside them, is everyone offered. A sum that includes a hidden count is
    still given when the published figures determine it (the total minus the visible
    counts outside the sum), and hidden otherwise: nothing the table does not already say."""

    def part(lo: int, hi: int) -> Figure:
        inside = _sum(c[lo:hi])
        if inside != SUPPRESSED or total in (None, SUPPRESSED):
            return inside
        outside = _sum([*c[:lo], *c[hi:]])
        if outside == SUPPRESSED:
            return SUPPRESSED
        derived = int(total) - int(outside)
        # never print a small count, even one the table lets a reader work out
        return SUPPRESSED if 1 <= derived < THRESHOLD else derived

    reached = [
        total if total is not None else _sum(c[0:9]),
        part(1, 9),
        part(2, 9),
        part(3, 9),
        part(4, 9),
        part(6, 9),
        c[8],
    ]
    bases = [None, reached[0], reached[1], reached[2], reached[3], part(5, 9), part(7, 9)]
    not_due = [0, 0, 0, 0, 0, c[4], c[6]]
    steps = []
    for k, (key, label) in enumerate(STEPS):
        steps.append(
            StepFigure(
                key=key,
                label=str(label),
                reached=reached[k],
                base=bases[k],
                not_yet_due=not_due[k],
                conversion=percent(reached[k], bases[k]) if k else None,
                of_offered=percent(reached[k], reached[0]) if k < 5 else None,
            )
        )
    return steps


def funnel(journeys: Iterable[Journey], as_of: date) -> list[StepFigure]:
    return funnel_from_categories(category_counts(journeys, as_of))


def median_days(journeys: Iterable[Journey], *, minimum: int = 1) -> tuple[float | None, int]:
    """Median days from first conversation to first meeting, and how many it is over
    (None when fewer than `minimum`)."""
    days = [d for j in journeys if (d := j.days_to_first_meeting()) is not None]
    if len(days) < max(1, minimum):
        return None, len(days)
    return float(statistics.median(days)), len(days)


@dataclass
class SplitRow:
    key: str
    label: str
    steps: list[StepFigure]
    median_days: float | None
    median_n: int

    def reached(self, key: str) -> Figure:
        return next(s.reached for s in self.steps if s.key == key)

    def step(self, key: str) -> StepFigure:
        return next(s for s in self.steps if s.key == key)

    @property
    def first_meeting_of_introduced(self) -> Figure:
        return percent(self.reached("first_meeting"), self.reached("introduced"))


def split(
    journeys: Iterable[Journey],
    key: Callable[[Journey], str | None],
    labels: dict[str, str],
    as_of: date,
    *,
    only: Callable[[Journey], bool] | None = None,
    none_label: str = "",
) -> list[SplitRow]:
    """The funnel for each group of `key` (in `labels` order, then the rest; None is
    `none_label`, dropped when empty)."""
    groups: dict[str, list[Journey]] = {}
    for journey in journeys:
        if only is not None and not only(journey):
            continue
        groups.setdefault(key(journey) or "", []).append(journey)
    order = [k for k in labels if k in groups] + sorted(k for k in groups if k not in labels and k)
    if "" in groups and none_label:
        order.append("")
    rows = []
    for k in order:
        members = groups[k]
        median, n = median_days(members)
        rows.append(
            SplitRow(
                key=k,
                label=str(labels.get(k, k)) if k else none_label,
                steps=funnel(members, as_of),
                median_days=median,
                median_n=n,
            )
        )
    return rows


# --- BARC-10 over time ------------------------------------------------------------------


@dataclass
class BarcPoint:
    label: str
    n: int
    mean: float | None
    at_or_above: int  # how many at or above the remission threshold


def barc_by_months_since_first(
    journeys: Iterable[Journey], *, months: int = 6, threshold: int = 47
) -> list[BarcPoint]:
    """Mean BARC-10 total by 30-day blocks since each client's first BARC-10: 0, 1, …
    `months` (the last one is "that many or more"). A client counts once per block, with
    their latest score in it."""
    blocks: dict[int, dict[int, int]] = {m: {} for m in range(months + 1)}
    for journey in journeys:
        if not journey.barc10:
            continue
        scores = sorted(journey.barc10)
        start = scores[0][0]
        for taken, total in scores:
            block = min(months, (taken - start).days // 30)
            blocks[block][journey.client_id] = total  # sorted: the latest wins
    points = []
    for m in range(months + 1):
        values = list(blocks[m].values())
        label = f"{m}+" if m == months else str(m)
        points.append(
            BarcPoint(
                label=label,
                n=len(values),
                mean=round(statistics.fmean(values), 1) if values else None,
                at_or_above=sum(1 for v in values if v >= threshold),
            )
        )
    return points


def barc_change(journeys: Iterable[Journey]) -> dict[str, int]:
    """Clients with two or more BARC-10s: improved, the same, or lower (latest vs first)."""
    out = {"improved": 0, "same": 0, "lower": 0}
    for journey in journeys:
        if len(journey.barc10) < 2:
            continue
        scores = sorted(journey.barc10)
        change = scores[-1][1] - scores[0][1]
        out["improved" if change > 0 else "same" if change == 0 else "lower"] += 1
    return out


def safe_median(value: float | None, n: int, *, suppress: bool) -> Figure:
    """A median is published only over THRESHOLD or more people when suppressing."""
    if value is None:
        return None
    if suppress and n < THRESHOLD:
        return SUPPRESSED
    return value
