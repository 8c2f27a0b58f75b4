"""The meeting page's "also listed by" read (meeting.duplicates) uses its own small index.

With statistics on a directory where almost no meeting is a duplicate, SQLite judged the
foreign-key index on duplicate_of unselective and scanned a covering index instead (~30 ms
per page at 250k meetings; docs/performance.md, Serving)."""

import pytest
from django.db import connection

from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plan")
def test_duplicates_of_a_meeting_are_found_through_the_partial_index():
    original = make_meeting(name="Original")
    for i in range(150):
        make_meeting(name=f"Other {i}", weekday=i % 7, latitude=51 + i / 1000)
    make_meeting(name="Second listing", duplicate_of=original)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    queryset = original.duplicates.select_related("source")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "USING INDEX meeting_duplicates" in plan, plan
    assert [m.name for m in queryset] == ["Second listing"]
