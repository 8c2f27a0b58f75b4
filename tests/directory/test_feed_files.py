"""The Meeting Guide feed as files (mutualaid/directory/feed_files.py): rendered once per
directory generation and reused by every worker, written atomically, one renderer at a
time across threads and processes, old generations removed."""

import gzip
import json
import multiprocessing
import os
import threading
import time

import pytest
from django.test import Client

from mutualaid.directory import cache as directory_cache
from mutualaid.directory import feed_files, feeds_views
from tests.factories import make_meeting

URL = "/feeds/meeting-guide.json"
TOKEN_1 = "1.2026-11-28T10:00:00.000001"
TOKEN_2 = "2.2026-11-28T11:00:00.000002"


def files(where) -> list[str]:
    return sorted(p.name for p in feed_files.folder(where).iterdir() if p.suffix != ".lock")


def read(feed: feed_files.FeedFile) -> bytes:
    with feed.file:
        return feed.file.read()


# --- through the view ---------------------------------------------------------------


@pytest.mark.django_db
def test_rendered_once_per_generation_and_reused_by_other_workers(renders, settings):
    make_meeting(name="Hope")
    first = Client().get(URL)
    body = first.getvalue()
    assert json.loads(body)[0]["name"] == "Hope"
    # Another worker: a new client, nothing remembered in this process (the generation
    # memo forgotten). It reads the same file, plain or gzipped, without rendering.
    directory_cache._memo.clear()
    other = Client()
    assert other.get(URL).getvalue() == body
    assert gzip.decompress(other.get(URL, HTTP_ACCEPT_ENCODING="gzip").getvalue()) == body
    assert len(renders) == 1
    where = settings.FEED_CACHE_DIR
    gen = feed_files.generation_id(directory_cache.generation_token())
    assert [name.split(".", 1)[1] for name in files(where)] == [
        f"{gen}.json",
        f"{gen}.json.gz",
    ]
    # A change: a new generation is rendered once, and the old one's files are gone.
    make_meeting(name="Serenity")
    assert len(json.loads(Client().get(URL).getvalue())) == 2
    assert len(json.loads(Client().get(URL).getvalue())) == 2
    assert len(renders) == 2
    new_gen = feed_files.generation_id(directory_cache.generation_token())
    assert new_gen != gen
    assert {name.split(".")[1] for name in files(where)} == {new_gen}


@pytest.mark.django_db
def test_a_current_etag_is_answered_304_without_rendering(renders, settings, client):
    make_meeting()
    etag = client.get(URL)["ETag"]
    for path in feed_files.folder(settings.FEED_CACHE_DIR).iterdir():
        path.unlink()
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert len(renders) == 1


@pytest.mark.django_db
def test_last_modified_is_when_the_generation_moved(client):
    make_meeting()
    response = client.get(URL)
    moved = feed_files.token_time(directory_cache.generation_token())
    from django.utils.http import http_date

    assert response["Last-Modified"] == http_date(moved)
    again = client.get(URL, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304


# --- the store itself (no database) -------------------------------------------------


def pieces(*chunks: bytes):
    def render():
        yield from chunks

    return render


def test_files_are_complete_and_identical_to_the_pieces(tmp_path):
    feed = feed_files.open_feed("k", TOKEN_1, pieces(b"[", b'{"a":1}', b"]"), gzipped=False,
                                directory=tmp_path)  # fmt: skip
    assert read(feed) == b'[{"a":1}]'
    zipped = feed_files.open_feed("k", TOKEN_1, pieces(b"never"), gzipped=True, directory=tmp_path)
    assert gzip.decompress(read(zipped)) == b'[{"a":1}]'
    assert zipped.etag == feed.etag[:-1] + '-gzip"'
    assert feed.mtime == feed_files.token_time(TOKEN_1)


def test_a_reader_during_rendering_gets_the_old_file_or_the_complete_new_one(tmp_path):
    old = feed_files.open_feed("k", TOKEN_1, pieces(b"[1,2,3]"), gzipped=False, directory=tmp_path)
    assert read(old) == b"[1,2,3]"
    halfway, finish = threading.Event(), threading.Event()

    def slow():
        yield b"[4,"
        halfway.set()
        assert finish.wait(10)
        yield b"5,6]"

    done = {}
    renderer = threading.Thread(
        target=lambda: done.update(
            feed=read(feed_files.open_feed("k", TOKEN_2, slow, gzipped=False, directory=tmp_path))
        )
    )
    renderer.start()
    assert halfway.wait(10)
    # Half of the new feed is written (under a temporary name): a reader gets the old one.
    during = feed_files.open_feed("k", TOKEN_2, pieces(b"no"), gzipped=False, directory=tmp_path)
    assert read(during) == b"[1,2,3]"
    assert during.gen == feed_files.generation_id(TOKEN_1)
    zipped = feed_files.open_feed("k", TOKEN_2, pieces(b"no"), gzipped=True, directory=tmp_path)
    assert gzip.decompress(read(zipped)) == b"[1,2,3]"
    # The half-written feed exists only under a temporary name.
    gen_2 = feed_files.generation_id(TOKEN_2)
    present = files(tmp_path)
    assert f"k.{gen_2}.json" not in present and f"k.{gen_2}.json.gz" not in present
    assert any(name.startswith(f".k.{gen_2}.") and name.endswith(".tmp") for name in present)
    # A file opened before the old generation is removed stays readable to its reader.
    held = feed_files.open_feed("k", TOKEN_1, pieces(b"no"), gzipped=False, directory=tmp_path)
    finish.set()
    renderer.join(10)
    assert done["feed"] == b"[4,5,6]"
    assert read(held) == b"[1,2,3]"
    after = feed_files.open_feed("k", TOKEN_2, pieces(b"no"), gzipped=False, directory=tmp_path)
    assert read(after) == b"[4,5,6]"
    assert files(tmp_path) == [f"k.{gen_2}.json", f"k.{gen_2}.json.gz"]


def test_with_no_older_file_a_reader_waits_for_the_rendering(tmp_path):
    halfway, finish = threading.Event(), threading.Event()

    def slow():
        yield b"[7,"
        halfway.set()
        assert finish.wait(10)
        yield b"8]"

    renderer = threading.Thread(
        target=lambda: feed_files.open_feed("k", TOKEN_1, slow, gzipped=False, directory=tmp_path)
    )
    renderer.start()
    assert halfway.wait(10)
    got = {}
    reader = threading.Thread(
        target=lambda: got.update(
            body=read(
                feed_files.open_feed("k", TOKEN_1, pieces(b"x"), gzipped=False, directory=tmp_path)
            )  # fmt: skip
        )
    )
    reader.start()
    time.sleep(0.2)
    assert "body" not in got  # waiting on the lock, not served anything partial
    finish.set()
    reader.join(10)
    renderer.join(10)
    assert got["body"] == b"[7,8]"


def test_a_failed_rendering_leaves_nothing_and_frees_the_lock(tmp_path):
    def broken():
        yield b"[1,"
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        feed_files.open_feed("k", TOKEN_1, broken, gzipped=False, directory=tmp_path)
    assert files(tmp_path) == []
    feed = feed_files.open_feed("k", TOKEN_1, pieces(b"[1]"), gzipped=False, directory=tmp_path)
    assert read(feed) == b"[1]"


def test_old_generations_and_abandoned_temporary_files_are_removed(tmp_path):
    read(feed_files.open_feed("a", TOKEN_1, pieces(b"[]"), gzipped=False, directory=tmp_path))
    read(feed_files.open_feed("b", TOKEN_1, pieces(b"[]"), gzipped=False, directory=tmp_path))
    where = feed_files.folder(tmp_path)
    abandoned = where / ".a.x.123-4.tmp"
    recent = where / ".a.y.123-5.tmp.gz"
    abandoned.write_bytes(b"[half")
    recent.write_bytes(b"[half")
    hour_ago = time.time() - feed_files.STALE_TEMP_SECONDS - 60
    os.utime(abandoned, (hour_ago, hour_ago))
    read(feed_files.open_feed("a", TOKEN_2, pieces(b"[1]"), gzipped=False, directory=tmp_path))
    gen_2 = feed_files.generation_id(TOKEN_2)
    assert files(tmp_path) == [".a.y.123-5.tmp.gz", f"a.{gen_2}.json", f"a.{gen_2}.json.gz"]
    assert (where / "a.lock").exists() and (where / "b.lock").exists()


def _render_in_child(where, log, token, barrier_path):
    # A separate process (fork): waits for the others, then asks for the same feed.
    while not os.path.exists(barrier_path):
        time.sleep(0.005)

    def render():
        with open(log, "a") as out:
            out.write(f"{os.getpid()}\n")
        time.sleep(0.3)
        yield b"[42]"

    gen = feed_files.ensure("k", token, render, directory=where, wait=True)
    with open(feed_files.folder(where) / f"k.{gen}.json", "rb") as fh:
        assert fh.read() == b"[42]"


def test_processes_and_threads_render_a_generation_once(tmp_path):
    log = tmp_path / "renders.log"
    barrier = tmp_path / "go"
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_render_in_child, args=(tmp_path, log, TOKEN_1, barrier))
        for _ in range(4)
    ]
    for child in children:
        child.start()
    threads = [
        threading.Thread(target=_render_in_child, args=(tmp_path, log, TOKEN_1, barrier))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    barrier.touch()
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    for thread in threads:
        thread.join(30)
    assert len(log.read_text().split()) == 1


# --- rendering ahead of readers -----------------------------------------------------


@pytest.mark.django_db
def test_render_feeds_command_renders_what_readers_then_get(renders, settings):
    from io import StringIO

    from django.core.management import call_command

    make_meeting(name="Hope")
    make_meeting(name="Serenity NA", fellowship_code="NA")
    out = StringIO()
    call_command("render-feeds", "--base-url", "http://testserver/", "--fellowships", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("meeting-guide for http://testserver: rendered in ")
    assert any(
        line.startswith("meeting-guide (NA) for http://testserver: rendered") for line in lines
    )
    rendered = len(renders)
    assert rendered == len(lines)  # one rendering per feed
    directory_cache._memo.clear()
    response = Client().get(URL)
    assert response.getvalue() == feeds_views.render_feed(base_url="http://testserver")
    assert [i["name"] for i in feed_json(Client().get(URL, {"fellowship": "NA"}))] == [
        "Serenity NA"
    ]
    assert len(renders) == rendered  # readers rendered nothing
    again = StringIO()
    call_command("render-feeds", "--base-url", "http://testserver", stdout=again)
    assert "already rendered, ETag " + response["ETag"] in again.getvalue()


def feed_json(response) -> list:
    return json.loads(response.getvalue())


@pytest.mark.django_db
def test_an_import_that_changes_the_directory_renders_the_feed(renders, settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    settings.SITE_URL = "http://testserver"
    path = tmp_path / "feed.json"
    row = {"name": "Imported", "slug": "imported", "day": 1, "time": "19:00"}
    path.write_text(json.dumps([row]))
    args = [str(path), "--format", "meeting-guide", "--timezone", "Europe/London"]
    call_command("import", *args, stdout=StringIO())
    assert len(renders) == 1
    assert [i["name"] for i in feed_json(Client().get(URL))] == ["Imported"]
    call_command("import", *args, stdout=StringIO())  # unchanged: nothing to render
    call_command("import", *args, "--no-render-feeds", stdout=StringIO())
    assert len(renders) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_the_wsgi_server_is_handed_the_file_itself_for_sendfile(settings, encoding):
    """Through every middleware, the feed reaches the WSGI server as the open file
    (wsgi.file_wrapper), which gunicorn sends with sendfile: no copy in the worker."""
    from wsgiref.util import FileWrapper

    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from tests.serving.test_head import same_connection

    make_meeting()
    environ = RequestFactory()._base_environ(
        PATH_INFO=URL, REQUEST_METHOD="GET", QUERY_STRING="", HTTP_ACCEPT_ENCODING=encoding
    )
    environ["wsgi.file_wrapper"] = FileWrapper
    with same_connection():
        result = WSGIHandler()(environ, lambda *args: None)
    try:
        assert isinstance(result, FileWrapper)
        name = result.filelike.name
        assert name.startswith(str(feed_files.folder(settings.FEED_CACHE_DIR)))
        assert name.endswith(".json.gz" if encoding == "gzip" else ".json")
    finally:
        result.close()


# --- rendering in the background ------------------------------------------------------


def test_in_the_background_readers_get_the_previous_rendering_meanwhile(tmp_path):
    read(feed_files.open_feed("k", TOKEN_1, pieces(b"[1]"), gzipped=False, directory=tmp_path))
    started, finish = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append(threading.current_thread().name)
        started.set()
        assert finish.wait(10)
        yield b"[2]"

    options = {"gzipped": False, "directory": tmp_path, "background": True}
    first = feed_files.open_feed("k", TOKEN_2, slow, **options)  # returns at once
    assert read(first) == b"[1]" and first.gen == feed_files.generation_id(TOKEN_1)
    assert started.wait(10)
    again = feed_files.open_feed("k", TOKEN_2, slow, **options)
    assert read(again) == b"[1]"
    finish.set()
    feed_files._renderers[(str(feed_files.folder(tmp_path)), "k")].join(10)
    assert len(calls) == 1 and calls[0] != threading.current_thread().name
    assert read(feed_files.open_feed("k", TOKEN_2, slow, **options)) == b"[2]"
    gen_2 = feed_files.generation_id(TOKEN_2)
    assert files(tmp_path) == [f"k.{gen_2}.json", f"k.{gen_2}.json.gz"]


def test_in_the_background_a_first_rendering_is_still_made_in_the_request(tmp_path):
    feed = feed_files.open_feed(
        "k", TOKEN_1, pieces(b"[1]"), gzipped=False, directory=tmp_path, background=True
    )
    assert read(feed) == b"[1]"
    assert (str(feed_files.folder(tmp_path)), "k") not in feed_files._renderers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_an_edit_the_view_serves_the_previous_feed_until_the_new_one_is_rendered(
    settings,
):
    settings.FEED_RENDER_IN_BACKGROUND = True
    meeting = make_meeting(name="Before")
    client = Client()
    first = client.get(URL)
    assert [i["name"] for i in feed_json(first)] == ["Before"]
    meeting.name = "After"
    meeting.save()
    stale = client.get(URL)
    assert stale["ETag"] == first["ETag"]
    assert [i["name"] for i in feed_json(stale)] == ["Before"]
    # The stale file was served at once; a thread renders the new generation.
    where = str(feed_files.folder(settings.FEED_CACHE_DIR))
    feed_files._renderers[(where, feeds_views.feed_key("http://testserver"))].join(30)
    fresh = client.get(URL)
    assert [i["name"] for i in feed_json(fresh)] == ["After"]
    assert fresh["ETag"] != first["ETag"]
