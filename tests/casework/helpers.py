"""Casework test data: clients and volunteers made through the services (so audited)."""

from __future__ import annotations

import itertools
from datetime import time

from mutualaid.casework import services
from mutualaid.directory.models import Fellowship
from tests.factories import make_meeting

BRIGHTON = (50.8225, -0.1372)
_counter = itertools.count(1)


def make_client(keyworker, **fields):
    n = next(_counter)
    defaults = {
        "case_reference": f"CASE-{n:04d}",
        "preferred_name": f"Client{n} Testname",
        "area_name": "Brighton",
        "latitude": BRIGHTON[0],
        "longitude": BRIGHTON[1],
    }
    defaults.update(fields)
    return services.create_client(actor=keyworker, **defaults)


def make_volunteer(staff, *, fellowship="AA", **fields):
    defaults = {
        "name": f"Vol{next(_counter)}",
        "area_name": "Hove",
        "latitude": 50.8279,
        "longitude": -0.1688,
        "languages": ["en"],
        "availability": [{"weekday": d, "start": "17:00", "end": "22:00"} for d in range(7)],
        "offers_phone_call": True,
        "offers_meet_before": True,
        "offers_go_along": True,
        "email": "volunteer@example.org",
        "consent_to_contact": True,
    }
    defaults.update(fields)
    return services.create_volunteer(
        actor=staff, fellowships=[Fellowship.objects.get(code=fellowship)], **defaults
    )


def brighton_meeting(**fields):
    defaults = {
        "name": "Brighton Newcomers",
        "weekday": 2,
        "start_time": time(19, 0),
        "latitude": BRIGHTON[0] + 0.002,
        "longitude": BRIGHTON[1],
        "city": "Brighton",
        "location_name": "St Peter's Church Hall",
        "street_address": "York Place",
        "postcode": "BN1 4GU",
        "types": ["open", "newcomer"],
    }
    defaults.update(fields)
    return make_meeting(**defaults)
