"""Small-number suppression: no hidden count can be recovered from what is published."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.lib.suppression import SUPPRESSED, THRESHOLD, suppress_table

# Mostly small counts, so that suppression is exercised hard; some zeros and larger ones.
count = st.one_of(st.integers(0, 6), st.integers(0, 60))


def _published_system(table, grid, one_d):
    """Every published equation, over the unknown (hidden) entries, as a numpy matrix."""
    n_rows, n_cols = len(grid), len(grid[0]) if grid else 0
    unknown = {}

    def var(key, shown):
        if shown == SUPPRESSED:
            unknown.setdefault(key, len(unknown))
            return unknown[key]
        return None

    equations = []  # each: list of (coefficient, key, shown)
    rt, ct, total = table.row_totals, table.column_totals, table.total
    cell = {("c", i, j): table.rows[i][j] for i in range(n_rows) for j in range(n_cols)}
    if rt is not None:
        for i in range(n_rows):
            equations.append(
                [(1, ("c", i, j), cell[("c", i, j)]) for j in range(n_cols)]
                + [(-1, ("r", i), rt[i])]
            )
    if ct is not None:
        for j in range(n_cols):
            equations.append(
                [(1, ("c", i, j), cell[("c", i, j)]) for i in range(n_rows)]
                + [(-1, ("k", j), ct[j])]
            )
    if total is not None and not one_d:
        if rt is not None:
            equations.append([(1, ("r", i), rt[i]) for i in range(n_rows)] + [(-1, ("t",), total)])
        if ct is not None:
            equations.append([(1, ("k", j), ct[j]) for j in range(n_cols)] + [(-1, ("t",), total)])
    rows = []
    for eq in equations:
        for _, key, shown in eq:
            var(key, shown)
    for eq in equations:
        row = np.zeros(len(unknown))
        for coef, key, shown in eq:
            if shown == SUPPRESSED:
                row[unknown[key]] += coef
        rows.append(row)
    return (np.array(rows) if rows else np.zeros((0, len(unknown)))), unknown


def _assert_nothing_recoverable(table, grid, one_d=False):
    matrix, unknown = _published_system(table, grid, one_d)
    if not unknown:
        return
    rank = np.linalg.matrix_rank(matrix) if len(matrix) else 0
    for key, k in unknown.items():
        unit = np.zeros(len(unknown))
        unit[k] = 1
        stacked = np.vstack([matrix, unit]) if len(matrix) else unit[None, :]
        # If the unit vector were a combination of the published equations, adding and
        # subtracting published figures would give this hidden value exactly.
        assert np.linalg.matrix_rank(stacked) == rank + 1, f"{key} recoverable from {table}"


def _assert_primary_and_truthful(table, grid):
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            shown = table.rows[i][j]
            assert shown == SUPPRESSED or shown == value
            if 1 <= value < THRESHOLD:
                assert shown == SUPPRESSED
            if value == 0 and shown != SUPPRESSED:
                assert shown == 0
    for totals in (table.row_totals or [], table.column_totals or [], [table.total]):
        for shown in totals:
            assert shown is None or shown == SUPPRESSED or not (1 <= shown < THRESHOLD)


def _assert_no_line_has_exactly_one_hidden(table):
    rows, rt, ct = table.rows, table.row_totals, table.column_totals
    if rt is not None:
        for i, row in enumerate(rows):
            assert [*row, rt[i]].count(SUPPRESSED) != 1
    if ct is not None:
        for j in range(len(ct)):
            column = [row[j] for row in rows] + [ct[j]]
            assert column.count(SUPPRESSED) != 1


def test_counts_one_to_four_are_stars_and_zero_is_shown():
    table = suppress_table([12, 3, 0, 40, 25])
    assert table.cells[1] == SUPPRESSED and table.cells[2] == 0
    # 3 alone would be total - the rest: the next smallest (12) is hidden as well.
    assert table.cells == [SUPPRESSED, SUPPRESSED, 0, 40, 25]
    assert table.total == 80


def test_a_list_with_no_small_counts_is_unchanged():
    table = suppress_table([12, 7, 0, 40])
    assert table.cells == [12, 7, 0, 40] and table.total == 59
    assert not table.any_suppressed


def test_a_small_total_is_hidden_too():
    table = suppress_table([3, 0])
    assert table.cells == [SUPPRESSED, 0] and table.total == SUPPRESSED


def test_two_dimensional_secondary_suppression():
    grid = [[20, 3, 15], [30, 12, 9], [25, 40, 6]]
    table = suppress_table(grid)
    assert table.rows[0][1] == SUPPRESSED
    _assert_no_line_has_exactly_one_hidden(table)
    _assert_nothing_recoverable(table, grid)


def test_bridge_between_two_blocks_is_not_recoverable():
    # Two separate 2x2 blocks of small counts plus one small cell joining them: line-by-line
    # rules are satisfied, yet combining rows and columns would reveal the joining cell.
    grid = [
        [2, 3, 50, 50],
        [3, 2, 1, 50],
        [50, 50, 2, 3],
        [50, 50, 3, 2],
    ]
    table = suppress_table(grid, row_totals=False, column_totals=False, grand_total=False)
    assert table.rows[1][2] == SUPPRESSED  # primary only: nothing published to subtract from
    table = suppress_table(grid)
    _assert_nothing_recoverable(table, grid)


@settings(max_examples=300, deadline=None)
@given(st.lists(count, min_size=0, max_size=8))
def test_lists_nothing_recoverable_from_the_total(values):
    table = suppress_table(values)
    grid = [[v] for v in values]
    _assert_primary_and_truthful(table, grid)
    _assert_no_line_has_exactly_one_hidden(table)
    _assert_nothing_recoverable(table, grid, one_d=True)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda cols: st.lists(st.lists(count, min_size=cols, max_size=cols), min_size=1, max_size=5)
    ),
    st.booleans(),
    st.booleans(),
)
def test_tables_nothing_recoverable_from_any_margin(grid, row_totals, column_totals):
    table = suppress_table(grid, row_totals=row_totals, column_totals=column_totals)
    _assert_primary_and_truthful(table, grid)
    _assert_no_line_has_exactly_one_hidden(table)
    _assert_nothing_recoverable(table, grid)
