"""URL imports with conditional GET, the empty-feed and mass-removal guards, `sources`, `sync`."""

import json
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mutualaid.directory.feeds import MeetingRecord
from mutualaid.directory.importing import ImportRefused, apply_records
from mutualaid.directory.models import ImportRun, Meeting, Source, Status
from tests.directory.test_fetching import LAST_MODIFIED, FeedServer, Route
from tests.realfeeds import realfeed

NEW_YORK = "America/New_York"
HEADER = "Day,Time,Name,Address,City,Types,Slug"


def tsml(*slugs: str, name="Meeting") -> bytes:
    rows = [f"Monday,7:30 PM,{name} {s},1 Main St,Hoboken,Open,{s}" for s in slugs]
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *[str(a) for a in args], stdout=out)
    return out.getvalue()


def run_json(command: str, *args):
    return json.loads(run(command, *args, "--json"))


def listed(source_name: str) -> set[str]:
    return set(
        Meeting.objects.filter(source__name=source_name, status=Status.ACTIVE).values_list(
            "source_ref", flat=True
        )
    )


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


# --- `mutualaid import URL`: conditional GET ------------------------------------------------


@pytest.mark.django_db
def test_unchanged_url_feed_answers_304_and_changes_nothing(server):
    server.routes["/nyc.csv"] = Route(tsml("a", "b"), etag='"v1"', last_modified=LAST_MODIFIED)
    url = server.url("/nyc.csv")
    first = run_json(
        "import", url, "--source", "NYC", "--format", "tsml-csv", "--timezone", NEW_YORK
    )
    assert (first["status"], first["created"]) == ("applied", 2)
    source = Source.objects.get(name="NYC")
    assert (source.format, source.etag, source.last_modified) == ("tsml-csv", '"v1"', LAST_MODIFIED)
    stamps = list(Meeting.objects.values_list("updated_at", flat=True))

    again = run_json("import", url, "--source", "NYC", "--format", "tsml-csv")
    assert again == {
        "source": "NYC",
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "rejected": [],
        "status": "not_modified",
        "warnings": [],
    }
    sent = server.headers_of(1)
    assert (sent["if-none-match"], sent["if-modified-since"]) == ('"v1"', LAST_MODIFIED)
    assert list(Meeting.objects.values_list("updated_at", flat=True)) == stamps
    runs = list(ImportRun.objects.filter(source=source).order_by("started_at"))
    assert [r.status for r in runs] == ["applied", "not_modified"]
    assert runs[1].finished_at is not None

    text = run("import", url, "--source", "NYC", "--format", "tsml-csv")
    assert text.startswith("NYC: not modified since the last import (HTTP 304), nothing changed")

    # --force fetches in full; the import then finds nothing to write.
    forced = run_json("import", url, "--source", "NYC", "--format", "tsml-csv", "--force")
    assert (forced["status"], forced["unchanged"]) == ("applied", 2)
    assert "if-none-match" not in server.headers_of(3)


@pytest.mark.django_db
def test_changed_url_feed_is_imported_and_its_new_etag_kept(server):
    server.routes["/feed.csv"] = Route(tsml("a", "b"), etag='"v1"')
    url = server.url("/feed.csv")
    run("import", url, "--source", "S", "--timezone", NEW_YORK)  # .csv: tsml-csv by default
    server.routes["/feed.csv"] = Route(tsml("a", "b", "c"), etag='"v2"')
    data = run_json("import", url, "--source", "S")
    assert (data["status"], data["created"], data["unchanged"]) == ("applied", 1, 2)
    assert Source.objects.get(name="S").etag == '"v2"'


@pytest.mark.django_db
def test_new_options_skip_the_conditional_get(server):
    server.routes["/feed.csv"] = Route(tsml("a"), etag='"v1"')
    url = server.url("/feed.csv")
    run("import", url, "--source", "S", "--timezone", NEW_YORK)
    data = run_json("import", url, "--source", "S", "--timezone", "America/Chicago")
    assert (data["status"], data["updated"]) == ("applied", 1)
    assert "if-none-match" not in server.headers_of(1)
    assert Meeting.objects.get().timezone == "America/Chicago"


@pytest.mark.django_db
def test_fetch_failures_are_one_line_recorded_and_change_nothing(server, settings):
    server.routes["/feed.csv"] = Route(tsml("a", "b"), etag='"v1"')
    url = server.url("/feed.csv")
    run("import", url, "--source", "S", "--timezone", NEW_YORK)
    server.routes["/feed.csv"] = Route(tsml("a", "b", "c"), etag='"v2"')

    settings.FEED_MAX_BYTES = 100
    with pytest.raises(CommandError) as info:
        run("import", url, "--source", "S")
    assert info.value.returncode == 2
    size = len(tsml("a", "b", "c"))
    assert str(info.value) == (
        f"cannot fetch {url}: larger than the 100 bytes limit ({size} bytes) "
        "(settings FEED_MAX_BYTES)"
    )

    settings.FEED_MAX_BYTES = 50 * 1024 * 1024
    settings.FEED_FETCH_TIMEOUT = 0.2
    server.routes["/feed.csv"].delay = 1
    with pytest.raises(CommandError, match="no complete answer within 0.2 s") as info:
        run("import", url, "--source", "S")
    assert info.value.returncode == 2

    source = Source.objects.get(name="S")
    assert source.etag == '"v1"'
    assert listed("S") == {"a", "b"}
    runs = list(source.runs.order_by("started_at").values_list("status", "error"))
    assert [status for status, _ in runs] == ["applied", "failed", "failed"]
    assert "FEED_MAX_BYTES" in runs[1][1] and "FEED_FETCH_TIMEOUT" in runs[2][1]


# --- the guards -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_empty_feed_is_refused_unless_allowed(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(tsml("a", "b"))
    run("import", path, "--timezone", NEW_YORK)
    path.write_bytes(tsml())  # the header only

    with pytest.raises(CommandError) as info:
        run("import", path)
    assert info.value.returncode == 1
    assert str(info.value) == (
        "feed: the feed has no usable meetings: nothing changed "
        "(--allow-mass-removal imports it anyway)"
    )
    assert listed("feed") == {"a", "b"}
    run_ = ImportRun.objects.latest("started_at")
    assert (run_.status, run_.removed) == ("refused", 0)
    assert run_.error.startswith("the feed has no usable meetings")

    data = run_json("import", path, "--allow-mass-removal")
    assert (data["status"], data["removed"]) == ("applied", 2)
    assert listed("feed") == set()


@pytest.mark.django_db
def test_feed_whose_rows_are_all_rejected_says_why(tmp_path):
    path = tmp_path / "nozone.csv"
    path.write_bytes(tsml("a"))
    with pytest.raises(CommandError) as info:
        run("import", path)
    assert str(info.value) == (
        "nozone: the feed has no usable meetings (1 rows rejected): nothing changed "
        "(--allow-mass-removal imports it anyway); first rejected: row 1: timezone: no time "
        "zone, no coordinates and no default time zone for the feed"
    )
    assert not Source.objects.exists()  # a new source is not even created


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kept,refused",
    [(4, True), (5, False)],  # 10 listed: removing 6 is more than half, 5 is not
)
def test_mass_removal_is_refused_above_the_fraction(tmp_path, kept, refused):
    path = tmp_path / "feed.csv"
    slugs = [f"m{n}" for n in range(10)]
    path.write_bytes(tsml(*slugs))
    run("import", path, "--timezone", NEW_YORK)
    path.write_bytes(tsml(*slugs[:kept]))
    if refused:
        with pytest.raises(CommandError) as info:
            run("import", path)
        assert info.value.returncode == 1
        assert "would remove 6 of the 10 meetings listed from this source" in str(info.value)
        assert "FEED_MAX_REMOVAL_FRACTION (0.5)" in str(info.value)
        assert len(listed("feed")) == 10
        data = run_json("import", path, "--allow-mass-removal")
    else:
        data = run_json("import", path)
    assert data["removed"] == 10 - kept
    assert len(listed("feed")) == kept


@pytest.mark.django_db
def test_removal_fraction_comes_from_settings(settings):
    source = Source.objects.create(name="S", format="tsml-csv")
    records = [
        MeetingRecord(row=n, source_ref=f"m{n}", slug=f"m{n}", name="M", timezone=NEW_YORK)
        for n in range(1, 5)
    ]
    apply_records(source=source, records=records)
    settings.FEED_MAX_REMOVAL_FRACTION = 0.2
    with pytest.raises(ImportRefused, match=r"would remove 1 of the 4 .*\(0.2\)"):
        apply_records(source=source, records=records[:3])
    assert apply_records(source=source, records=records[:3], max_removal_fraction=0.25).removed == 1
    assert apply_records(source=source, records=[], allow_mass_removal=True).removed == 3


@pytest.mark.django_db
def test_import_run_keeps_warnings(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(HEADER.encode() + b"\r\n,7:30 PM,No day,1 Main St,Hoboken,Open,a\r\n")
    data = run_json("import", path, "--timezone", NEW_YORK)
    expected = [
        {
            "row": 1,
            "id": "a",
            "field": "day",
            "message": "a time but no day: listed as by appointment",
        }
    ]
    assert data["warnings"] == expected
    assert ImportRun.objects.get().warnings == expected


# --- `mutualaid sources` and `mutualaid sync` ---------------------------------------------------


@pytest.mark.django_db
def test_sources_table_and_json(tmp_path, server):
    assert "no sources yet" in run("sources")
    server.routes["/nyc.csv"] = Route(tsml("a", "b", "c"), etag='"v1"')
    run("import", server.url("/nyc.csv"), "--source", "NYC", "--timezone", NEW_YORK)
    path = tmp_path / "file.csv"
    path.write_bytes(tsml("x"))
    run("import", path, "--timezone", NEW_YORK, "--fellowship", "CA")
    server.routes["/nyc.csv"] = Route(tsml("a", "b"), etag='"v2"')
    run("import", server.url("/nyc.csv"), "--source", "NYC")

    rows = run_json("sources")
    assert [r["name"] for r in rows] == ["NYC", "file"]
    nyc = rows[0]
    assert {k: nyc[k] for k in ("format", "location", "default_timezone", "fellowship")} == {
        "format": "tsml-csv",
        "location": server.url("/nyc.csv"),
        "default_timezone": NEW_YORK,
        "fellowship": None,
    }
    assert (nyc["listed"], nyc["removed"]) == (2, 1)
    assert nyc["last_imported_at"]
    assert {k: v for k, v in nyc["last_run"].items() if k not in ("started_at", "finished_at")} == {
        "status": "applied",
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "removed": 1,
        "rejected": 0,
        "warnings": 0,
        "error": "",
    }
    assert rows[1]["fellowship"] == "CA"

    lines = run("sources").splitlines()
    assert lines[0].split() == [
        "name",
        "format",
        "location",
        "zone",
        "fellowship",
        "listed",
        "removed",
        "last",
        "import",
        "last",
        "run",
    ]
    assert lines[1].startswith("NYC ")
    assert "tsml-csv" in lines[1] and NEW_YORK in lines[1]
    assert lines[1].endswith("0 created, 0 updated, 2 unchanged, 1 removed, 0 rejected")
    assert "   2        1 " in lines[1]


@pytest.mark.django_db
def test_sync_reimports_url_sources_and_reports_failures(tmp_path, server):
    server.routes["/good.csv"] = Route(tsml("a", "b"), etag='"v1"')
    server.routes["/mg.json"] = Route(b"[]", last_modified=LAST_MODIFIED)
    run("import", server.url("/good.csv"), "--source", "Good", "--timezone", NEW_YORK)
    path = tmp_path / "local.csv"
    path.write_bytes(tsml("x"))
    run("import", path, "--source", "Local file", "--timezone", NEW_YORK)
    Source.objects.create(name="Broken", format="meeting-guide", location=server.url("/gone.json"))
    Source.objects.create(
        name="Zero",
        format="meeting-guide",
        location="HTTP" + server.url("/mg.json")[4:],  # any case of the scheme
    )
    server.routes["/good.csv"] = Route(tsml("a", "b", "c"), etag='"v2"')

    with pytest.raises(CommandError) as info:
        run("sync")
    assert info.value.returncode == 1
    assert str(info.value) == "2 of 3 sources failed: Broken, Zero"
    assert listed("Good") == {"a", "b", "c"}
    assert listed("Local file") == {"x"}
    statuses = dict(
        Source.objects.filter(runs__isnull=False)
        .order_by("runs__started_at")
        .values_list("name", "runs__status")
    )
    assert statuses == {
        "Good": "applied",
        "Local file": "applied",
        "Broken": "failed",
        "Zero": "refused",  # an empty feed
    }

    # Only Good now: unchanged -> 304, and the JSON report.
    Source.objects.filter(name__in=["Broken", "Zero"]).delete()
    out = StringIO()
    call_command("sync", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["failed"] == 0
    [good] = report["sources"]
    assert (good["source"], good["status"], good["format"], good["error"]) == (
        "Good",
        "not_modified",
        "tsml-csv",
        "",
    )
    assert good["location"] == server.url("/good.csv")
    assert isinstance(good["seconds"], float)
    assert run("sync").startswith("Good: not modified (HTTP 304), nothing changed (")


@pytest.mark.django_db
def test_sync_output_lines_and_refusals(server):
    server.routes["/a.csv"] = Route(tsml("a", "b"), etag='"1"')
    server.routes["/b.csv"] = Route(tsml("x"), etag='"1"')
    run("import", server.url("/a.csv"), "--source", "A", "--timezone", NEW_YORK)
    run("import", server.url("/b.csv"), "--source", "B", "--timezone", NEW_YORK)
    server.routes["/a.csv"] = Route(tsml(), etag='"2"')  # emptied: refused
    server.routes["/b.csv"] = Route(tsml("x", "y"), etag='"2"')
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 sources failed: A"):
        call_command("sync", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "A: REFUSED: the feed has no usable meetings: nothing changed "
        "(--allow-mass-removal imports it anyway)"
    )
    assert lines[1].startswith("B: 1 created, 0 updated, 1 unchanged, 0 removed, 0 rejected (")
    assert listed("A") == {"a", "b"}
    assert ImportRun.objects.filter(source__name="A").latest("started_at").status == "refused"


@pytest.mark.django_db
def test_sync_with_no_url_sources():
    assert run("sync") == "no sources with an http(s) location: nothing to sync\n"


# --- the real files through the command -------------------------------------------------------


@pytest.mark.realfeeds
@pytest.mark.django_db
def test_real_tsml_files_import_and_reimport_unchanged():
    template = run_json("import", realfeed("tsml-import-template.csv"))
    assert (template["created"], len(template["rejected"])) == (36, 0)

    path = realfeed("tsml-import-nyintergroup-2015.tsv")
    clock = time.perf_counter()
    nyc = run_json("import", path, "--format", "tsml-csv", "--timezone", NEW_YORK)
    seconds = time.perf_counter() - clock
    assert (nyc["created"], len(nyc["rejected"]), len(nyc["warnings"])) == (3671, 14, 9)
    assert seconds < 30, f"the NYC file took {seconds:.1f} s"
    assert Meeting.objects.filter(source__name="tsml-import-nyintergroup-2015").count() == 3671
    # No coordinates in the file: stored, but not placed.
    assert not Meeting.objects.filter(latitude__isnull=False).exists()

    again = run_json("import", path, "--format", "tsml-csv")
    assert (again["created"], again["updated"], again["unchanged"], again["removed"]) == (
        0,
        0,
        3671,
        0,
    )
