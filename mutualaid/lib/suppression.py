"""Small-number suppression for published figures (framework-free).

England's drug treatment statistics hide counts of 1 to 4 (shown as "*"; 0 is shown) so
that nobody can be picked out of a small group, and add *secondary* suppression so that a
hidden count cannot be worked out from the totals printed beside it. This module does both,
for a list with its total and for a table with row totals, column totals and a grand total:

    table = suppress_table([12, 3, 0, 40])                 # one column and its total
    table.cells   -> [12, "*", 0, "*"]  ... table.total -> 55

    table = suppress_table([[10, 3], [8, 20]])             # rows x columns, all margins
    table.rows    -> [[10, "*", ...], ...], table.row_totals, table.column_totals, table.total

Rules, in order:

1. Primary: every count (cell or total) from 1 to THRESHOLD - 1 is hidden.
2. Secondary, line by line: a row or column (with its total) in which exactly one figure is
   hidden would give it away by subtraction, so the smallest other non-zero cell of that line
   is hidden too (a zero only if nothing else is left; the line's total if no cell is left).
3. Secondary, across lines: subtraction can also combine several rows and columns. Any hidden
   figure that the published figures still pin down (it is a linear function of them: exact
   rational elimination over every row and column equation) gets a further companion hidden
   beside it, until none is pinned down.

What this does not promise: bounds. Two hidden cells known to add up to 2 must each be 1,
because a hidden count is at least 1; publishing tables like that is a judgement for the
person publishing (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

SUPPRESSED = "*"
THRESHOLD = 5

# An entry of the extended table: ("cell", i, j), ("row_total", i), ("col_total", j), ("total",)
Key = tuple


@dataclass
class SuppressedTable:
    """What to publish. `rows` is a list of rows (a 1-D input is one column: `cells`)."""

    rows: list[list[int | str]]
    row_totals: list[int | str] | None
    column_totals: list[int | str] | None
    total: int | str | None
    hidden: set[Key] = field(default_factory=set)
    one_dimensional: bool = False

    @property
    def cells(self) -> list[int | str]:
        """The values of a 1-D input (one column)."""
        return [row[0] for row in self.rows]

    @property
    def any_suppressed(self) -> bool:
        return bool(self.hidden)


def _is_small(value: int, threshold: int) -> bool:
    return 1 <= value < threshold


def _lines(n_rows: int, n_cols: int, row_totals: bool, col_totals: bool, grand: bool):
    """Each published equation as (cell keys, total key): sum(cells) == total."""
    lines = []
    if row_totals:
        for i in range(n_rows):
            lines.append(([("cell", i, j) for j in range(n_cols)], ("row_total", i)))
    if col_totals:
        for j in range(n_cols):
            lines.append(([("cell", i, j) for i in range(n_rows)], ("col_total", j)))
    if grand and row_totals:
        lines.append(([("row_total", i) for i in range(n_rows)], ("total",)))
    if grand and col_totals:
        lines.append(([("col_total", j) for j in range(n_cols)], ("total",)))
    if grand and not row_totals and not col_totals:
        lines.append(([("cell", i, j) for i in range(n_rows) for j in range(n_cols)], ("total",)))
    return lines


def determined(lines, hidden: set[Key]) -> set[Key]:
    """Hidden entries whose value follows from the published ones by linear algebra."""
    variables = sorted(hidden)
    index = {key: k for k, key in enumerate(variables)}
    matrix = []
    for cells, total in lines:
        row = [Fraction(0)] * len(variables)
        for key in cells:
            if key in index:
                row[index[key]] += 1
        if total in index:
            row[index[total]] -= 1
        if any(row):
            matrix.append(row)
    # Reduced row echelon form, exactly.
    pivots: list[int] = []
    r = 0
    for c in range(len(variables)):
        pivot = next((k for k in range(r, len(matrix)) if matrix[k][c] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        lead = matrix[r][c]
        matrix[r] = [x / lead for x in matrix[r]]
        for k in range(len(matrix)):
            if k != r and matrix[k][c] != 0:
                factor = matrix[k][c]
                matrix[k] = [a - factor * b for a, b in zip(matrix[k], matrix[r], strict=True)]
        pivots.append(c)
        r += 1
        if r == len(matrix):
            break
    found = set()
    for k, c in enumerate(pivots):
        if all(x == 0 for j, x in enumerate(matrix[k]) if j != c):
            found.add(variables[c])
    return found


def _companion(candidates, values, hidden) -> Key | None:
    """The smallest visible non-zero cell, else a visible zero cell, else a visible total."""
    visible = [key for key in candidates if key not in hidden]
    cells = [key for key in visible if key[0] == "cell"]
    nonzero = [key for key in cells if values[key] > 0]
    for pool in (nonzero, cells, visible):
        if pool:
            return min(pool, key=lambda key: (values[key], key))
    return None


def suppress_table(
    counts,
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    grand_total: bool = True,
    threshold: int = THRESHOLD,
) -> SuppressedTable:
    """Suppress a 1-D list (published with its total) or a 2-D table (published with row
    totals, column totals and a grand total, each optional). Counts are non-negative ints."""
    one_d = not counts or not isinstance(counts[0], list | tuple)
    if one_d:
        grid = [[int(v)] for v in counts]
        row_totals, column_totals = False, bool(column_totals and grand_total)
        grand_total = False
    else:
        grid = [[int(v) for v in row] for row in counts]
        if len({len(row) for row in grid}) > 1:
            raise ValueError("every row needs the same number of columns")
    if any(v < 0 for row in grid for v in row):
        raise ValueError("counts cannot be negative")
    n_rows = len(grid)
    n_cols = 1 if one_d else (len(grid[0]) if grid else 0)

    values: dict[Key, int] = {}
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            values[("cell", i, j)] = v
    if row_totals:
        for i, row in enumerate(grid):
            values[("row_total", i)] = sum(row)
    if column_totals:
        for j in range(n_cols):
            values[("col_total", j)] = sum(grid[i][j] for i in range(n_rows))
    if grand_total and (row_totals or column_totals or not one_d):
        values[("total",)] = sum(map(sum, grid))
    has_grand = ("total",) in values
    lines = _lines(n_rows, n_cols, row_totals, column_totals, has_grand)

    hidden = {key for key, v in values.items() if _is_small(v, threshold)}
    while True:
        changed = False
        for cells, total in lines:
            members = [*cells, total]
            if sum(key in hidden for key in members) == 1:
                extra = _companion(members, values, hidden)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
        if changed:
            continue
        pinned = determined(lines, hidden)
        if not pinned:
            break
        key = min(pinned)
        # Companions for `key`: visible entries of the lines it belongs to.
        candidates = [
            m for cells, total in lines if key in (*cells, total) for m in (*cells, total)
        ]
        extra = _companion(candidates, values, hidden)
        if extra is None:  # every neighbour hidden already: widen to everything visible
            extra = _companion(list(values), values, hidden)
        if extra is None:
            break
        hidden.add(extra)

    def show(key):
        return SUPPRESSED if key in hidden else values[key]

    return SuppressedTable(
        rows=[[show(("cell", i, j)) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[show(("row_total", i)) for i in range(n_rows)] if row_totals else None,
        column_totals=[show(("col_total", j)) for j in range(n_cols)] if column_totals else None,
        total=show(("total",))
        if has_grand
        else (show(("col_total", 0)) if one_d and column_totals else None),
        hidden=hidden,
        one_dimensional=one_d,
    )
