import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_meeting


def run_search(*args) -> str:
    out = StringIO()
    call_command("search", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_search_json_shape_and_filters():
    make_meeting(name="Women Monday", types=["women"], weekday=0, source_ref="feed-1")
    make_meeting(name="Mixed Monday", weekday=0)
    make_meeting(name="Women Friday", types=["women"], weekday=4)
    data = json.loads(
        run_search(
            "--near",
            "51.5074,-0.1278",
            "--day",
            "monday",
            "--type",
            "W",
            "--json",
            "--now",
            "2026-11-28T12:00:00+00:00",
            "--timezone",
            "America/New_York",
        )
    )
    assert data["count"] == 1
    row = data["results"][0]
    assert row["name"] == "Women Monday"
    assert row["source_id"] == "feed-1"
    assert row["weekday"] == "Monday"
    assert row["next_start"] == "2026-11-30T19:00:00+00:00"
    assert row["next_start_viewer"] == "2026-11-30T14:00:00-05:00"
    assert row["types"] == ["W", "EN"]


@pytest.mark.django_db
def test_search_table_is_readable():
    make_meeting(name="Hope group", location_name="St Mary's Hall")
    text = run_search(
        "--near", "51.5074,-0.1278", "--upcoming", "--now", "2026-11-28T12:00:00+00:00"
    )
    assert "1 meeting(s) found" in text
    assert "Hope group" in text and "St Mary's Hall" in text
    assert "Mon 30 Nov 19:00 GMT" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,message",
    [
        (["--near", "51.5,-200"], "longitude"),
        (["--near", "51.5,0", "--radius-km", "0"], "radius"),
        (["--near", "51.5,0", "--radius-km", "lots"], "radius"),
        (["--day", "someday"], "unknown day"),
        (["--start-after", "25:00"], "start-after"),
        (["--type", "XYZZY"], "unknown meeting type"),
        (["--fellowship", "AAA"], "unknown fellowship"),
        (["--mode", "teleport"], "unknown mode"),
        (["--now", "yesterday"], "ISO 8601"),
        (["--timezone", "Mars/Base"], "time zone"),
    ],
)
def test_bad_input_is_one_clear_error(args, message):
    with pytest.raises(CommandError, match=message) as info:
        run_search(*args)
    assert info.value.returncode == 2


def test_cli_exit_code_two_and_no_traceback(tmp_path):
    # A throwaway SQLite file: the subprocess must not touch a configured server database.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["MUTUALAID_VAR_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-m", "mutualaid", "migrate", "-v0"], env=env, check=True)
    proc = subprocess.run(
        [sys.executable, "-m", "mutualaid", "search", "--day", "Funday"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "CommandError: day: unknown day 'Funday' (use a name such as Monday or Mon)"
    ]
