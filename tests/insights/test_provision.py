"""Local provision and gaps on a constructed directory whose answers are known: meetings
per week by fellowship, approach, type and mode; the weekday × hour grid; the choice index;
the gaps (women-only, evening secular, Sunday, further than N km); stale listings."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from mutualaid.directory.models import Status
from mutualaid.insights import provision as pv
from mutualaid.insights.models import Area
from mutualaid.lib import geo
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db

CENTRE = (50.8225, -0.1372)  # Brighton
KM_LNG = 1 / (111.195 * 0.6317)  # degrees of longitude per km at this latitude


def east(km: float) -> dict:
    return {"latitude": CENTRE[0], "longitude": CENTRE[1] + km * KM_LNG, "city": "Brighton"}


@pytest.fixture
def directory():
    now = timezone.now()
    area = Area.objects.create(
        name="Test area", latitude=CENTRE[0], longitude=CENTRE[1], radius_km=5, gap_km=2
    )
    m = {}
    m["aa_mon"] = make_meeting(name="AA Monday", weekday=0, start_time=time(19, 0), **east(0),
                               last_verified_at=now)  # fmt: skip
    m["na_fortnight"] = make_meeting(
        name="NA Tuesday", fellowship_code="NA", weekday=1, start_time=time(12, 0),
        frequency="fortnightly", series_anchor=date(2026, 1, 6),
        feed_updated_at=now - timedelta(days=730), **east(1),
    )  # fmt: skip
    m["smart_wed"] = make_meeting(
        name="SMART Wednesday", fellowship_code="SMART", weekday=2, start_time=time(18, 30),
        last_verified_at=now - timedelta(days=330), **east(0),
    )  # fmt: skip
    m["aa_women"] = make_meeting(name="AA Women", weekday=3, start_time=time(10, 0),
                                 types=["women"], **east(2))  # fmt: skip
    make_meeting(name="AA Sunday far away", weekday=6, start_time=time(11, 0), **east(20))
    make_meeting(name="AA online", weekday=0, start_time=time(20, 0), mode="online",
                 latitude=None, longitude=None)  # fmt: skip
    make_meeting(name="AA closed", weekday=4, start_time=time(19, 0), mode="inactive", **east(0))
    make_meeting(name="AA removed", weekday=5, start_time=time(19, 0), status=Status.REMOVED,
                 **east(0))  # fmt: skip
    return area, m


def test_meetings_per_week(directory):
    area, _m = directory
    prov = pv.provision(area, reach_km=3)
    assert prov.total_per_week == 3.5  # 1 + 1/2 (fortnightly) + 1 + 1
    assert prov.by_fellowship() == {"AA": 2.0, "SMART": 1.0, "NA": 0.5}
    assert prov.by_approach() == {"Twelve-step": 2.5, "Secular / skills-based": 1.0}
    types = dict(prov.by_type())
    assert types["Women only"] == 1.0 and types["Secular"] == 1.0 and types["LGBTQ+"] == 0
    assert dict(prov.by_mode()) == {"In person": 3.5, "Hybrid": 0, "Online (anywhere)": 1.0}
    assert prov.closed == 1
    assert prov.counts() == {"women": 1.0, "evening_secular": 1.0, "sunday": 0, "any": 3.5}


def test_heatmap(directory):
    area, _m = directory
    heat = pv.provision(area, with_grid=False).heatmap()
    hour = pv.HOURS.index
    assert heat[0][hour(19)] == 1.0
    assert heat[1][hour(12)] == 0.5
    assert heat[2][hour(18)] == 1.0
    assert heat[3][hour(10)] == 1.0
    assert sum(map(sum, heat)) == 3.5


def test_gaps_and_choice(directory):
    area, _m = directory
    grid = pv.provision(area, reach_km=3).grid
    # Nothing on a Sunday within reach anywhere in the area (the Sunday meeting is 20 km off)
    assert grid.share_lacking("sunday") == 100.0
    # Every meeting lies within 2 km east of the centre: within reach (3 km) of the
    # centre, so the centre lacks nothing but Sunday ...
    assert grid.centre_fellowships == 3 and grid.centre_approaches == 2
    # ... while cells more than 3 km from the evening SMART meeting (at the centre) lack an
    # evening secular meeting: about 1 - (3/5)^2 = 64 % of a 5 km disc
    assert 55 <= grid.share_lacking("evening_secular") <= 72
    # further than N = 2 km from every meeting: most of the disc, never the centre
    assert 60 <= grid.share_lacking("any") <= 90
    # women-only meeting 2 km east: reach 3 km covers a disc of 3 km around it
    assert 55 <= grid.share_lacking("women") <= 75
    # named places from the gazetteer: Brighton is near the centre
    brighton = next(p for p in grid.places if p.name == "Brighton")
    assert brighton.lacks == {"sunday"}
    assert brighton.nearest_km < 1.5 and brighton.fellowships == 3
    # the map's distances agree with a direct haversine for a corner cell inside the disc
    inside = [(i, j) for i in range(len(grid.lats)) for j in range(len(grid.lngs))
              if grid.inside[i][j]]  # fmt: skip
    i, j = inside[0]
    meetings = [(CENTRE[0], CENTRE[1] + k * KM_LNG) for k in (0, 1, 2)]
    direct = min(geo.haversine_km(grid.lats[i], grid.lngs[j], a, b) for a, b in meetings)
    assert grid.nearest_km[i][j] == pytest.approx(direct, abs=1e-6)


def test_stale_listings(directory):
    area, _m = directory
    stale = {m.name for m in pv.provision(area, with_grid=False).stale}
    # AA Monday verified now and SMART 11 months ago are current; NA updated two years ago,
    # AA Women never checked, and the temporarily closed one are stale.
    assert stale == {"NA Tuesday", "AA Women", "AA closed"}


def test_an_empty_area_lacks_everything(db):
    area = Area.objects.create(name="Nowhere", latitude=57.0, longitude=-4.0, radius_km=3)
    prov = pv.provision(area)
    assert prov.total_per_week == 0
    for need, _label in pv.NEEDS:
        assert prov.grid.share_lacking(need) == 100.0


def test_area_named_from_the_gazetteer_and_unknown_names(db):
    area = pv.area_named("Brighton and Hove")
    assert abs(area.latitude - 50.83) < 0.1
    assert pv.area_named("brighton and hove").pk == area.pk  # stored once
    with pytest.raises(pv.AreaUnknown, match="admin"):
        pv.area_named("Qwxzzy Borough")
