"""Every figure a commissioner sees about clients is suppressed: counts 1-4 never appear,
a figure that would need a hidden one is hidden too, and the funnel publishes nothing the
suppressed table does not already say. Managers of one service see the other services of
their area the same way; keyworkers see their service's figures suppressed."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.insights import funnel as fn
from mutualaid.insights import reports
from mutualaid.lib.suppression import SUPPRESSED, suppress_table
from tests.accounts.helpers import login_verified

from .helpers import build_world, journey

COUNT_HEADERS = {"Clients", "Could have reached it", "Not yet due", "Total"}


def _is_safe_count(value) -> bool:
    return value in (SUPPRESSED, None, 0) or (isinstance(value, int) and value >= 5)


RANGES = {  # step -> the categories it adds up (funnel.py)
    "offered": (0, 9), "discussed": (1, 9), "goal": (2, 9), "introduced": (3, 9),
    "first_meeting": (4, 9), "weekly_4": (6, 9), "active_12": (8, 9),
}  # fmt: skip


def _derivable(cells, total, lo, hi) -> bool:
    """True when the published figures pin the sum of cells[lo:hi] down."""
    inside = [v for v in cells[lo:hi]]
    outside = [*cells[:lo], *cells[hi:]]
    if SUPPRESSED not in inside:
        return True
    return total != SUPPRESSED and SUPPRESSED not in outside


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), min_size=9, max_size=9), min_size=1, max_size=4))
def test_funnel_from_a_suppressed_table_never_shows_a_small_count(rows):
    table = suppress_table(rows)
    true_columns = [sum(col) for col in zip(*rows, strict=True)]
    lines = [(cells, total, true) for cells, total, true in
             zip(table.rows, table.row_totals, rows, strict=True)]  # fmt: skip
    lines.append((table.column_totals, table.total, true_columns))
    for cells, total, true in lines:
        for step in fn.funnel_from_categories(cells, total=total):
            for value in (step.reached, step.base, step.not_yet_due):
                assert _is_safe_count(value), (rows, step)
            lo, hi = RANGES[step.key]
            if step.reached == SUPPRESSED:
                small = 1 <= sum(true[lo:hi]) < 5
                assert not _derivable(cells, total, lo, hi) or small or step.key == "offered"
            else:
                # the figure is right, and the published table already determined it
                assert step.reached == sum(true[lo:hi])
                assert _derivable(cells, total, lo, hi)
            if step.conversion is not None:
                assert (step.conversion == SUPPRESSED) == (SUPPRESSED in (step.reached, step.base))


@pytest.fixture
def world(db):
    w = build_world()
    m = w.meeting
    # Service A: 9 clients; Service B: 3. Small groups everywhere.
    for _ in range(4):
        journey(w.keyworker, m, to="discussed", days_ago=10)
    for _ in range(3):
        journey(w.keyworker, m, to="attended", days_ago=40, weeks=(1, 2, 3),
                barc=[(1, 30), (30, 40)])  # fmt: skip
    journey(w.keyworker2, m, to="introduced", days_ago=12, kind="information")
    journey(w.keyworker2, m, to="offered", days_ago=2)
    for _ in range(3):
        journey(w.other_keyworker, m, to="attended", days_ago=100, weeks=(1, 2, 3), ways=4)
    return w


AREA_TABLES = {"area-funnel", "area-categories", "area-barc10"}


def _check_area_tables(report):
    seen = set()
    for section in report.sections:
        for table in section.tables:
            if table.id not in AREA_TABLES:
                continue
            seen.add(table.id)
            for row in table.rows:
                for header, value in zip(table.headers[1:], row[1:], strict=True):
                    if table.id == "area-categories" or header in COUNT_HEADERS:
                        assert _is_safe_count(value), (table.id, header, value)
    assert seen == AREA_TABLES
    return seen


@pytest.mark.django_db
def test_commissioner_area_figures_are_all_suppressed(world):
    report = reports.area_report(world.commissioner, as_of=timezone.localdate())
    _check_area_tables(report)
    categories = report.table("area-categories")
    flat = [v for row in categories.rows for v in row[1:]]
    assert SUPPRESSED in flat  # there were small groups to hide
    # the exact counts are never published: service B has 3 active clients
    assert 3 not in flat
    # the area total (12) is published: it is safe, and the funnel's first step says it
    assert report.table("area-funnel").rows[0][1] == 12


@pytest.mark.django_db
def test_commissioner_page_and_csv_show_no_small_counts(world):
    browser = HttpClient()
    login_verified(browser, world.commissioner)
    for table_id in sorted(AREA_TABLES):
        response = browser.get(f"/insights/area/?csv={table_id}")
        assert response.status_code == 200
        header, *rows = csv.reader(io.StringIO(response.content.decode()))
        for row in rows:
            for name, cell in zip(header[1:], row[1:], strict=True):
                if table_id == "area-categories" or name in COUNT_HEADERS:
                    assert cell in ("*", "", "0") or int(cell) >= 5, (table_id, name, cell)


@pytest.mark.django_db
def test_self_assessment_evidence_is_suppressed_for_the_area(world):
    from mutualaid.insights import selfassessment

    result = selfassessment.build(world.commissioner, as_of=timezone.localdate())
    evidence = {i.key: " ".join(i.evidence) for i in result.items if i.by_hand}
    assert "*" in evidence["fama"]  # 8 of 12 discussed is derived from hidden cells
    assert "12 clients" in evidence["fama"]


@pytest.mark.django_db
def test_keyworker_sees_the_service_suppressed_manager_does_not(world):
    today = timezone.localdate()
    as_keyworker = reports.supervision(world.keyworker, world.keyworker, as_of=today)
    service_column = [row[3] for row in as_keyworker.table("compare").rows]
    assert all(_is_safe_count(v) for v in service_column)
    assert as_keyworker.suppressed
    as_manager = reports.supervision(world.manager, world.keyworker, as_of=today)
    assert [row[3] for row in as_manager.table("compare").rows][0] == 9
    assert not as_manager.suppressed


@pytest.mark.django_db
def test_directory_counts_are_published_as_they_are_and_hold_no_client_data(world):
    """The decision in docs/insights.md ("Why directory counts are not suppressed"): the
    area page's provision figures count public listings, not people, so a small count is
    shown as it is; they do not move when clients' casework does, and a listing restricted
    to one organisation is not among them."""
    from tests.casework.helpers import brighton_meeting
    from tests.factories import make_meeting

    today = timezone.localdate()
    report = reports.area_report(world.commissioner, as_of=today)
    directory_tables = {
        t.id: t.rows for s in report.sections if s.id != "area-funnel" for t in s.tables
    }
    assert "per-week-fellowship" in directory_tables and "gaps" in directory_tables
    # one public meeting in the area: published as 1 meeting a week, not hidden
    assert report.table("per-week-fellowship").rows == [["Alcoholics Anonymous", "AA", 1.0]]
    assert [SUPPRESSED] not in [r[1:2] for r in report.table("per-week-type").rows]

    # more casework at that meeting, and a new client of another service: the client
    # figures move, the directory's do not
    journey(world.keyworker, world.meeting, to="attended", days_ago=30, weeks=(1, 2, 3))
    journey(world.other_keyworker, world.meeting, to="introduced", days_ago=9)
    # a meeting listed only for service A (restricted) is not public provision
    brighton_meeting(name="Service A's own group", visibility="restricted",
                     organisation=world.org, weekday=4)  # fmt: skip
    make_meeting(name="Far away", latitude=55.95, longitude=-3.19, city="Edinburgh")
    again = reports.area_report(world.commissioner, as_of=today)
    for table_id, rows in directory_tables.items():
        assert again.table(table_id).rows == rows, table_id
    assert again.table("area-categories").rows != report.table("area-categories").rows
