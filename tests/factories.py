"""Small builders for test data: meetings with sensible defaults."""

from datetime import time

from mutualaid.directory.models import Fellowship, Meeting


def fellowship(code="AA") -> Fellowship:
    return Fellowship.objects.get(code=code)


def make_meeting(**fields) -> Meeting:
    defaults = {
        "name": "Test meeting",
        "weekday": 0,
        "start_time": time(19, 0),
        "timezone": "Europe/London",
        "mode": "in_person",
        "latitude": 51.5074,
        "longitude": -0.1278,
        "city": "London",
    }
    defaults.update(fields)
    types = defaults.pop("types", [])
    languages = defaults.pop("languages", ["en"])
    code = defaults.pop("fellowship_code", "AA")
    defaults.setdefault("fellowship", fellowship(code))
    meeting = Meeting(**defaults)
    meeting.types = types
    meeting.languages = languages
    meeting.full_clean(exclude=["slug"])
    meeting.save()
    return meeting
