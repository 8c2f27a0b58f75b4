"""`mutualaid import`: output, options remembered per source, clear errors, real feeds."""

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mutualaid.directory.models import ImportRun, Meeting, Source
from tests.realfeeds import realfeed

FEED = [
    {
        "slug": "monday-hope",
        "name": "Monday Hope",
        "day": 1,
        "time": "19:30",
        "address": "1 Main St",
    },
    {"slug": "no-name", "day": 2, "time": "10:00"},
    {
        "slug": "sunday",
        "name": "Sunday Online",
        "day": "0",
        "time": "08:00",
        "conference_url": "https://zoom.us/j/1",
    },
    {"slug": "bad-time", "name": "Bad time", "day": 3, "time": "7pm"},
]


def write_feed(tmp_path, rows=FEED, name="sepia.json"):
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return path


def run_import(*args) -> str:
    out = StringIO()
    call_command("import", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_json_summary(tmp_path):
    path = write_feed(tmp_path)
    data = json.loads(run_import(path, "--timezone", "America/New_York", "--json"))
    assert data == {
        "source": "sepia",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "rejected": [
            {"row": 2, "id": "no-name", "field": "name", "reason": "missing name"},
            {"row": 4, "id": "bad-time", "field": "time", "reason": "time '7pm' is not HH:MM"},
        ],
        "status": "applied",
        "warnings": [],
    }
    sunday = Meeting.objects.get(source_ref="sunday")
    assert (sunday.weekday, sunday.mode, sunday.fellowship.code) == (6, "online", "AA")

    again = json.loads(run_import(path, "--json"))  # the zone is remembered for the source
    assert (again["created"], again["unchanged"], len(again["rejected"])) == (0, 2, 2)


@pytest.mark.django_db
def test_human_summary_lists_rejected_rows_one_per_line(tmp_path):
    path = write_feed(
        tmp_path, FEED + [{"slug": "x", "name": "X", "day": 1, "time": "9:00", "types": ["ZZ"]}]
    )
    text = run_import(path, "--source", "SEPIA", "--timezone", "America/New_York")
    lines = text.splitlines()
    assert lines[0].startswith(
        "SEPIA: 3 created, 0 updated, 0 unchanged, 0 removed, 2 rejected (AA, "
    )
    assert "unknown type codes, left out: ZZ (1)" in lines
    assert lines[-2:] == [
        "rejected: row 2 no-name: name: missing name",
        "rejected: row 4 bad-time: time: time '7pm' is not HH:MM",
    ]


@pytest.mark.django_db
def test_source_remembers_zone_and_fellowship(tmp_path):
    path = write_feed(tmp_path)
    run_import(
        path, "--source", "Al-Anon MA", "--timezone", "America/New_York", "--fellowship", "alanon"
    )
    source = Source.objects.get(name="Al-Anon MA")
    assert (source.format, source.default_timezone, source.fellowship.code) == (
        "meeting-guide",
        "America/New_York",
        "ALANON",
    )
    assert source.location == str(path)
    assert set(Meeting.objects.values_list("fellowship__code", flat=True)) == {"ALANON"}

    write_feed(tmp_path, FEED[:1])
    data = json.loads(run_import(path, "--source", "Al-Anon MA", "--json"))
    assert (data["unchanged"], data["removed"]) == (1, 1)
    assert set(Meeting.objects.values_list("fellowship__code", flat=True)) == {"ALANON"}
    assert ImportRun.objects.filter(source=source).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,message",
    [
        (["missing.json"], "cannot read missing.json: No such file or directory"),
        (["{dir}"], "Is a directory"),
        (["{html}"], "page.html: not valid JSON: Expecting value at line 1 column 1"),
        (["{object}"], "object.json: expected a JSON array of meetings, got an object"),
        (
            ["{feed}", "--format", "bmlt-xml"],
            "unknown format 'bmlt-xml' (supported: meeting-guide, bmlt, tsml-csv)",
        ),
        (["{feed}", "--timezone", "Mars/Base"], "unknown time zone 'Mars/Base'"),
        (["{feed}", "--fellowship", "XYZ"], "unknown fellowship 'XYZ'"),
        (["ftp://example.org/feed.json"], "only http and https URLs are supported"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.html").write_text("<html></html>")
    (tmp_path / "object.json").write_text('{"meetings": []}')
    paths = {
        "dir": tmp_path,
        "html": "page.html",
        "object": "object.json",
        "feed": write_feed(tmp_path),
    }
    with pytest.raises(CommandError) as info:
        run_import(*[a.format(**paths) for a in args])
    assert info.value.returncode == 2
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert (Source.objects.count(), Meeting.objects.count(), ImportRun.objects.count()) == (0, 0, 0)


@pytest.mark.django_db
def test_source_of_another_format_is_refused(tmp_path):
    Source.objects.create(name="sepia", format="bmlt")
    with pytest.raises(CommandError, match="holds bmlt feeds") as info:
        run_import(write_feed(tmp_path), "--timezone", "America/New_York")
    assert info.value.returncode == 2


@pytest.mark.django_db
def test_imports_from_an_http_url(tmp_path):
    write_feed(tmp_path)
    handler = partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        data = json.loads(
            run_import(f"{base}/sepia.json", "--timezone", "America/New_York", "--json")
        )
        assert (data["source"], data["created"]) == (f"127.0.0.1:{server.server_address[1]}", 2)
        with pytest.raises(CommandError, match="HTTP 404") as info:
            run_import(f"{base}/missing.json", "--source", "x")
        assert info.value.returncode == 2
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_cli_exit_code_two_and_no_traceback(tmp_path):
    # A throwaway SQLite file: the subprocess must not touch a configured server database.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["MUTUALAID_VAR_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-m", "mutualaid", "migrate", "-v0"], env=env, check=True)
    (tmp_path / "broken.json").write_text("[{")
    proc = subprocess.run(
        [sys.executable, "-m", "mutualaid", "import", str(tmp_path / "broken.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"CommandError: {tmp_path / 'broken.json'}: not valid JSON: "
        "Expecting property name enclosed in double quotes at line 1 column 3"
    ]


# --- every real Meeting Guide feed --------------------------------------------------

# file, options, rows in the file (after splitting array days), created, rejected.
# Feeds without coordinates or zones need --timezone; the others get theirs from
# coordinates (aasepia, OC, San Jose...) or carry one per meeting (SF/Marin).
REAL_FEEDS = [
    ("meetingguide-aasepia-2024.json", [], 2038, 2038, 0),
    ("meetingguide-orange-county-ca-2023.json", [], 1967, 1967, 0),
    ("meetingguide-aasfmarin-2021.json", [], 658, 658, 0),
    ("meetingguide-aasanjose-2021.json", [], 693, 692, 1),  # one duplicate slug
    ("meetingguide-al-anon-2024.json", ["--fellowship", "ALANON"], 360, 360, 0),
    (
        "meetingguide-eda-2023.json",
        ["--fellowship", "EDA", "--timezone", "America/New_York"],
        185,
        185,
        0,
    ),
    ("meetingguide-edmonton-2024.json", ["--timezone", "America/Edmonton"], 315, 315, 0),
    ("meetingguide-sussex-de-2024.json", [], 123, 123, 0),
    ("meetingguide-kansas-city-2017.json", [], 45, 45, 0),
    ("meetingguide-edgecase-times.json", ["--timezone", "America/Chicago"], 9, 9, 0),
    ("meetingguide-edgecase-timezones.json", [], 2, 2, 0),
    ("meetingguide-edgecase-appointment.json", ["--timezone", "America/Los_Angeles"], 2, 2, 0),
]


@pytest.mark.realfeeds
@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,options,rows,created,rejected", REAL_FEEDS, ids=[f[0] for f in REAL_FEEDS]
)
def test_real_feed_imports_and_reimports_unchanged(name, options, rows, created, rejected):
    path = realfeed(name)
    first = json.loads(run_import(path, *options, "--json"))
    assert (first["created"], len(first["rejected"])) == (created, rejected)
    assert first["created"] + len(first["rejected"]) == rows
    assert Meeting.objects.count() == created

    again = json.loads(run_import(path, "--json"))  # zone and fellowship are remembered
    assert (again["created"], again["updated"], again["unchanged"], again["removed"]) == (
        0,
        0,
        created,
        0,
    )


@pytest.mark.realfeeds
@pytest.mark.django_db
def test_real_feeds_modes_zones_and_days():
    run_import(realfeed("meetingguide-aasepia-2024.json"))
    sepia = Meeting.objects.filter(source__name="meetingguide-aasepia-2024")
    assert Counter(sepia.values_list("mode", flat=True)) == {
        "in_person": 1289,
        "online": 305,
        "hybrid": 305,
        "inactive": 139,
    }
    assert set(sepia.values_list("timezone", flat=True)) == {"America/New_York"}

    run_import(realfeed("meetingguide-orange-county-ca-2023.json"))
    oc = Meeting.objects.filter(source__name="meetingguide-orange-county-ca-2023")
    # TSML's own attendance_option, as published.
    assert Counter(oc.values_list("mode", flat=True)) == {
        "in_person": 1432,
        "online": 385,
        "hybrid": 148,
        "inactive": 2,
    }
    assert oc.filter(weekday__isnull=True).count() == 1  # by appointment
    forty = oc.get(source_ref="40-minutes-to-freedom")  # "day": 1 is Monday
    assert (forty.weekday, str(forty.start_time), forty.duration_minutes) == (0, "19:30:00", 45)
    assert (forty.city, forty.postcode, forty.timezone) == (
        "Costa Mesa",
        "92626",
        "America/Los_Angeles",
    )
    assert oc.filter(language_codes__contains=",es,").count() > 100

    run_import(realfeed("meetingguide-edgecase-timezones.json"))
    zones = dict(
        Meeting.objects.filter(source_ref__in=["sf-meeting", "pa-meeting"]).values_list(
            "source_ref", "timezone"
        )
    )
    assert zones == {"sf-meeting": "America/Los_Angeles", "pa-meeting": "America/New_York"}
