"""Journeys read back from the database through the selectors give the funnel worked out
by hand for the same clients; each role sees only its own scope."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mutualaid.insights import funnel as fn
from mutualaid.insights import selectors

from .helpers import build_world, journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = build_world()
    kw, m = w.keyworker, w.meeting
    journey(kw, m, to="offered", days_ago=3)
    journey(kw, m, to="discussed", days_ago=20)
    journey(kw, m, to="goal", days_ago=20)
    journey(kw, m, to="introduced", days_ago=20, kind="information")
    # first meeting 8 days ago: not yet due for 4 weeks
    journey(kw, m, to="attended", days_ago=10, kind="volunteer_goes")
    # weekly (weeks 1, 2, 3), 100 days: check-in with 3 ways -> active
    journey(kw, m, to="attended", days_ago=102, kind="volunteer_goes", weeks=(1, 2, 3), ways=3,
            barc=[(5, 30), (40, 38), (70, 48)])  # fmt: skip
    # not weekly (week 4 only), 60 days
    journey(kw, m, to="attended", days_ago=62, kind="volunteer_call", weeks=(4,))
    # keyworker 2's client, same service, another team
    journey(w.keyworker2, m, to="attended", days_ago=50, kind="volunteer_call", weeks=(1, 2, 3))
    # service B: 2 clients
    journey(w.other_keyworker, m, to="discussed", days_ago=5)
    journey(w.other_keyworker, m, to="attended", days_ago=40, weeks=(1, 2, 3, 4))
    return w


def test_manager_funnel_from_the_database(world):
    today = timezone.localdate()
    items = selectors.journeys(selectors.clients_visible_to(world.manager))
    assert len(items) == 8  # service A only
    steps = [s.reached for s in fn.funnel(items, today)]
    # offered 8; discussed 7; goal 6; introduced 5; first meeting 4; weekly: the 102-day and
    # the 50-day clients -> 2; active: the 102-day client -> 1
    assert steps == [8, 7, 6, 5, 4, 2, 1]
    by_key = {s.key: s for s in fn.funnel(items, today)}
    assert by_key["weekly_4"].base == 3  # due: 102, 62, 50 days (not the 10-day one)
    assert by_key["active_12"].base == 1
    median, n = fn.median_days(items)
    assert (median, n) == (2.0, 4)
    methods = {j.method for j in items if j.method}
    assert methods == {"information", "volunteer_goes", "volunteer_call"}
    barc = next(j for j in items if j.barc10)
    assert sorted(t for _d, t in barc.barc10) == [30, 38, 48]


def test_scopes(world):
    assert len(selectors.journeys(selectors.clients_visible_to(world.keyworker))) == 7
    assert len(selectors.journeys(selectors.clients_visible_to(world.team_lead))) == 7  # North
    assert len(selectors.journeys(selectors.clients_visible_to(world.commissioner))) == 0
    assert (
        len(selectors.journeys(selectors.area_clients(selectors.area_of(world.commissioner)))) == 10
    )
    assert selectors.area_of(world.manager) == "Brighton and Hove"
    assert selectors.area_of(world.keyworker) == ""
    assert set(selectors.keyworkers_visible_to(world.keyworker)) == {world.keyworker}
    assert set(selectors.keyworkers_visible_to(world.team_lead)) == {
        world.keyworker,
        world.team_lead,
    }
    assert world.keyworker2 in set(selectors.keyworkers_visible_to(world.manager))
    assert not selectors.keyworkers_visible_to(world.commissioner).exists()
    assert selectors.can_see_area(world.commissioner) and not selectors.can_see_outcomes(
        world.commissioner
    )
    assert not selectors.can_see_area(world.administrator)
    assert not selectors.can_see_outcomes(world.administrator)  # no break-glass grant


def _facts(items, today):
    return sorted(
        (j.client_id, j.offered_on, j.discussed_on, j.goal_on, j.introduced_on,
         j.first_meeting_on, j.category(today), j.days_to_first_meeting())
        for j in items
    )  # fmt: skip


def test_the_shortcuts_read_the_same_journeys(world):
    """The cohort chosen in the database, journeys without methods, and the supervision
    report's reuse of the service's journeys give what the full read gives."""
    from datetime import timedelta

    today = timezone.localdate()
    clients = selectors.area_clients(selectors.area_of(world.commissioner))
    everyone = selectors.journeys(clients)
    for since, until in [(today - timedelta(days=30), None), (None, today - timedelta(days=21)),
                         (today - timedelta(days=62), today - timedelta(days=20)),
                         (today, today)]:  # fmt: skip
        expected = selectors.cohort(everyone, since=since, until=until)
        got = selectors.journeys(clients, since=since, until=until)
        assert _facts(got, today) == _facts(expected, today), (since, until)
        assert 0 < len(expected) < len(everyone) or since == until
    lean = selectors.journeys(clients, with_methods=False, with_barc=False)
    assert _facts(lean, today) == _facts(everyone, today)
    assert all(j.method is None and not j.barc10 for j in lean)
    assert fn.category_counts(lean, today) == fn.category_counts(everyone, today)


def test_a_keyworkers_journeys_taken_from_the_service_are_their_own(world):
    from mutualaid.insights import reports

    today = timezone.localdate()
    own_clients = selectors.clients_visible_to(world.manager).filter(keyworker=world.keyworker)
    direct = selectors.journeys(own_clients, with_barc=False)
    service = selectors.journeys(selectors.service_clients(world.manager), with_barc=False)
    reused = reports.own_journeys(own_clients, service)
    assert len(direct) == 7
    assert _facts(reused, today) == _facts(direct, today)
    assert {j.method for j in reused} == {j.method for j in direct}
    # a client outside the service's journeys: read directly
    fallback = reports.own_journeys(own_clients, service[:1])
    assert _facts(fallback, today) == _facts(direct, today)
