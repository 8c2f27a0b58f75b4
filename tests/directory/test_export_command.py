"""`mutualaid export`: every format, the fellowship filter, files, and bad input."""

import io
import json
import os
import subprocess
import sys
from datetime import date, time

import pytest
from django.core.management import CommandError, call_command
from icalendar import Calendar

from mutualaid.directory import feeds_views
from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide
from mutualaid.directory.feeds.tsml_csv import parse_tsml_csv
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db
PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def export(*args) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def meetings():
    made = [
        make_meeting(name="Hope", types=["open"], languages=["en", "es"]),
        make_meeting(name="Serenity NA", fellowship_code="NA", weekday=6, start_time=time(0, 0)),
        make_meeting(name="By appointment", weekday=None, start_time=None),
        make_meeting(
            name="Online",
            mode="online",
            latitude=None,
            longitude=None,
            conference_url="https://zoom.us/j/1",
        ),
        make_meeting(name="Monthly", frequency="monthly", month_week=1, weekday=2),
        make_meeting(
            name="Fortnightly", frequency="fortnightly", weekday=0, series_anchor=date(2026, 1, 5)
        ),
        make_meeting(name="Gone", status="removed"),
    ]
    yield made


LISTED = ["Hope", "Serenity NA", "By appointment", "Online", "Monthly", "Fortnightly"]


def test_meeting_guide_is_the_served_feed_byte_for_byte(client, meetings, tmp_path):
    served = client.get("/feeds/meeting-guide.json").getvalue()
    assert (
        export("--format", "meeting-guide", "--base-url", "http://testserver/").encode() == served
    )
    out = tmp_path / "feed.json"
    message = export("--base-url", "http://testserver", "--out", str(out))
    assert out.read_bytes() == served
    assert message.startswith(f"wrote meeting-guide ({len(served):,} bytes) to {out}")
    served_na = client.get("/feeds/meeting-guide.json", {"fellowship": "NA"}).getvalue()
    assert export("--fellowship", "na", "--base-url", "http://testserver").encode() == served_na


def test_meeting_guide_without_a_base_url_has_no_links(meetings):
    items = json.loads(export("--format", "meeting-guide"))
    assert [i["name"] for i in items] == LISTED
    assert not any("url" in i for i in items)
    result = parse_meeting_guide(export())
    assert not result.rejected and len(result.records) == len(LISTED)


def test_bmlt_is_what_get_search_results_answers(client, meetings):
    api = client.get(
        "/main_server/client_interface/json/", {"switcher": "GetSearchResults"}
    ).content
    exported = export("--format", "bmlt", "--base-url", "http://testserver")
    assert exported.encode() == api
    names = [row["meeting_name"] for row in json.loads(exported)]
    assert sorted(names) == sorted(n for n in LISTED if n != "By appointment")
    na = json.loads(export("--format", "bmlt", "--fellowship", "NA"))
    assert [row["meeting_name"] for row in na] == ["Serenity NA"]
    assert na[0]["root_server_uri"] == "/main_server"


def test_csv_is_tsml_csv_that_parses_back(meetings):
    text = export("--format", "csv")
    assert text.startswith("Time,End Time,Day,Name,")
    result = parse_tsml_csv(text.encode())
    assert not result.rejected
    records = {r.name: r for r in result.records}
    assert list(records) == LISTED
    assert records["Serenity NA"].weekday == 6 and records["Serenity NA"].start_time == time(0, 0)
    assert records["By appointment"].weekday is None
    assert records["Online"].mode == "online"
    assert records["Monthly"].notes == "Monthly: the first Wednesday of the month, not every week."
    assert set(records["Hope"].languages) == {"en", "es"}
    assert [
        r.name for r in parse_tsml_csv(export("--format", "csv", "--fellowship", "NA")).records
    ] == ["Serenity NA"]


def test_ics_is_one_calendar_of_every_scheduled_meeting(meetings):
    calendar = Calendar.from_ical(export("--format", "ics", "--base-url", "https://x.example"))
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert sorted(events) == sorted(
        f"{m.name} ({m.fellowship.code})"
        for m in meetings
        if m.name in LISTED and m.weekday is not None
    )
    monthly = events["Monthly (AA)"]
    assert monthly["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=1WE"
    assert str(monthly["URL"]).startswith("https://x.example/meetings/monthly/")
    na = Calendar.from_ical(export("--format", "ics", "--fellowship", "NA"))
    assert [str(e["SUMMARY"]) for e in na.walk("VEVENT")] == ["Serenity NA (NA)"]


def test_stdout_gets_the_exact_bytes(meetings, capfdbinary):
    call_command("export", "--format", "meeting-guide")
    captured = capfdbinary.readouterr().out
    assert captured == feeds_views.render_feed(base_url=None)


def test_meeting_guide_is_written_as_it_is_rendered(meetings, tmp_path, monkeypatch):
    """The feed goes to the file a piece at a time (the whole directory is never one bytes
    object: ~580 MB at 1M meetings); a render failing halfway leaves the old file whole."""
    whole = feeds_views.render_feed(base_url=None)
    pieces = []
    real = feeds_views.iter_feed

    def counted(**kwargs):
        for piece in real(**kwargs):
            pieces.append(len(piece))
            yield piece

    def refused(**kwargs):
        raise AssertionError("the export built the whole feed in memory")

    monkeypatch.setattr(feeds_views, "iter_feed", counted)
    monkeypatch.setattr(feeds_views, "render_feed", refused)
    monkeypatch.setattr("mutualaid.directory.management.commands.export.iter_feed", counted)
    monkeypatch.setattr("mutualaid.directory.management.commands.export.render_feed", refused)
    monkeypatch.setattr("mutualaid.directory.feeds.meeting_guide._CHUNK", 2)
    out = tmp_path / "feed.json"
    export("--out", str(out))
    assert out.read_bytes() == whole
    assert len(pieces) > 3 and sum(pieces) == len(whole)

    def breaks(**kwargs):
        yield b"["
        raise RuntimeError("the database went away")

    monkeypatch.setattr("mutualaid.directory.management.commands.export.iter_feed", breaks)
    with pytest.raises(RuntimeError):
        export("--out", str(out))
    assert out.read_bytes() == whole
    assert [p.name for p in tmp_path.iterdir()] == ["feed.json"]  # no temporary left


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "xml"], "unknown format 'xml' (use meeting-guide, bmlt, csv, ics)"),
        (["--fellowship", "ZZ"], "unknown fellowship 'ZZ'"),
        (["--base-url", "example.org"], "--base-url 'example.org' is not an http(s) URL"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(args, message):
    with pytest.raises(CommandError) as caught:
        call_command("export", *args)
    assert caught.value.returncode == 2
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_format_from_the_command_line(tmp_path):
    env = {**os.environ, "MUTUALAID_VAR_DIR": str(tmp_path), "DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "mutualaid", "export", "--format", "yaml"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "CommandError: unknown format 'yaml' (use meeting-guide, bmlt, csv, ics)"
    ]
