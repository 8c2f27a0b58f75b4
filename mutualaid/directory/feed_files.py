"""The Meeting Guide feeds as files: rendered once per directory generation, served from disk.

Why: the whole-directory feed is 56 MB of JSON at 100k meetings and ~580 MB at 1M. Kept
in each worker's memory with its gzip (as it was until 2026-11-28), one worker peaked at
2.8 GB at 1M meetings and every worker rendered it again. Now each feed is written once
per directory generation (mutualaid/directory/cache.py) to settings.FEED_CACHE_DIR,
streamed a chunk of meetings at a time into the file and its gzip together (bounded
memory), and the view serves it with FileResponse, which gunicorn sends with sendfile:
the bytes never pass through Python.

Layout of FEED_CACHE_DIR/meeting-guide/:

    <key>.<gen>.json, <key>.<gen>.json.gz   a complete rendering
    <key>.lock                              locked (flock) while <key> is being rendered
    .<key>.<gen>.<pid>-<thread>.tmp[.gz]    being written

<key> is a digest of what a feed depends on besides the directory (the base URL its
`url` fields use, the fellowship filter, and this rendering code); <gen> a digest of the
generation token. The ETag is "<key prefix>-<gen>" (plus "-gzip" for the gzip body):
the same generation gives the same bytes, so it is a strong validator without hashing
56 MB; Last-Modified is when the generation moved (the files' mtime is set to it).

Rules:
- A rendering is written under temporary names, fsynced, and renamed into place, the
  gzip first and the .json last. A reader opens a file by its final name, so it gets a
  complete file or none; a file removed after it was opened stays readable to it.
- One renderer per key at a time, across threads and processes on the machine (or
  machines sharing the directory over a file system with working flock): flock on
  <key>.lock, which the kernel releases if the process dies, so a killed renderer never
  leaves a stale lock (its temporary files are removed after an hour). The lock holder
  reads the generation again, bypassing the 1 s memo, and renders it unless a complete
  rendering of it is already there (another process finished it meanwhile).
- While another process renders, a reader that finds an older complete rendering of the
  same key serves that (the previous generation, older by at most one rendering) rather
  than wait; with none it waits for the lock and then serves the new file. With
  settings.FEED_RENDER_IN_BACKGROUND (the default) a reader that finds only an older
  rendering serves it and starts the rendering in a thread, so no request waits for one
  except the very first (a 1M-meeting feed takes ~40 s: longer than a sync worker may).
- After a rendering, the files of every other generation are removed.
"""

from __future__ import annotations

import fcntl
import functools
import gzip
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

GZIP_LEVEL = 6
SUBDIR = "meeting-guide"
STALE_TEMP_SECONDS = 3600
_ID_LENGTH = 20


def folder(directory: Path | str | None = None) -> Path:
    base = Path(directory if directory is not None else settings.FEED_CACHE_DIR)
    return base / SUBDIR


def _digest(*parts: str) -> str:
    joined = "\0".join(parts).encode()
    return hashlib.blake2b(joined, digest_size=_ID_LENGTH // 2).hexdigest()


@functools.cache
def code_version() -> str:
    """Changes when the code that writes a feed changes, so a deploy never serves a file
    rendered by the previous code for an unchanged directory."""
    from . import feeds_views
    from .feeds import meeting_guide

    digest = hashlib.blake2b(digest_size=8)
    for module in (meeting_guide, feeds_views):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def feed_key(*parts: str) -> str:
    """The file key of a feed: what its bytes depend on besides the directory."""
    return _digest(code_version(), *parts)


def generation_id(token: str) -> str:
    return _digest(token)


def token_time(token: str) -> float | None:
    """When the generation moved, from its token ("<counter>.<changed_at>"), or None."""
    _, _, stamp = token.partition(".")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def etag(key: str, gen: str, *, gzipped: bool) -> str:
    return f'"{key[:12]}-{gen}{"-gzip" if gzipped else ""}"'


@dataclass
class FeedFile:
    """An open, complete rendering (the caller closes `file`, or hands it to a response)."""

    file: BinaryIO
    key: str
    gen: str
    gzipped: bool
    size: int
    mtime: float

    @property
    def etag(self) -> str:
        return etag(self.key, self.gen, gzipped=self.gzipped)


def _path(where: Path, key: str, gen: str, *, gzipped: bool) -> Path:
    return where / f"{key}.{gen}.json{'.gz' if gzipped else ''}"


def _open(where: Path, key: str, gen: str, gzipped: bool) -> FeedFile:
    handle = open(_path(where, key, gen, gzipped=gzipped), "rb")  # noqa: SIM115 (returned)
    stat = os.fstat(handle.fileno())
    return FeedFile(handle, key, gen, gzipped, stat.st_size, stat.st_mtime)


def open_feed(
    key: str,
    token: str,
    render: Callable[[], Iterable[bytes]],
    *,
    gzipped: bool,
    refresh: Callable[[], str] | None = None,
    directory: Path | str | None = None,
    background: bool = False,
) -> FeedFile:
    """The rendering of `key` for generation `token` (or, while another process renders
    it, the previous one), rendered here first if need be. render() yields the feed's
    bytes in pieces; refresh() gives the latest generation token (read under the lock).

    background=True: when an older complete rendering is on disk, serve it at once and
    render the new one in a thread of this process (stale while it renders), so that no
    request waits for a rendering (at 1M meetings ~40 s: longer than a sync worker's
    timeout). Only a feed never rendered before is rendered in the request."""
    where = folder(directory)
    gen = generation_id(token)
    for _ in range(5):
        try:
            return _open(where, key, gen, gzipped)
        except FileNotFoundError:
            pass  # not rendered yet, or removed since (a newer generation was rendered)
        if background:
            older = newest(key, directory=directory)
            if older is not None:
                render_in_background(key, token, render, refresh=refresh, directory=directory)
                try:
                    return _open(where, key, older, gzipped)
                except FileNotFoundError:
                    continue  # removed meanwhile: a newer one is there now
        gen = ensure(key, token, render, refresh=refresh, directory=directory)
    raise RuntimeError(f"the feed {key} kept disappearing from {where}")  # pragma: no cover


def ensure(
    key: str,
    token: str,
    render: Callable[[], Iterable[bytes]],
    *,
    refresh: Callable[[], str] | None = None,
    directory: Path | str | None = None,
    wait: bool = False,
) -> str:
    """The generation id of a complete rendering of `key` on disk: the latest's (rendered
    here unless there already), or, while another process renders and wait is false, the
    newest older one there is."""
    where = folder(directory)
    where.mkdir(parents=True, exist_ok=True)
    with open(where / f"{key}.lock", "ab") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            older = None if wait else newest(key, directory=directory)
            if older is not None:
                return older
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        # Locked (released when `lock` closes).
        if refresh is not None:
            token = refresh()
        gen = generation_id(token)
        if not _path(where, key, gen, gzipped=False).exists():
            _write(where, key, gen, token, render)
        clean(keep=gen, directory=directory)
        return gen


# (folder, key) -> the thread rendering it in this process, if any.
_renderers: dict[tuple[str, str], threading.Thread] = {}
_renderers_lock = threading.Lock()
logger = logging.getLogger(__name__)


def render_in_background(
    key: str,
    token: str,
    render: Callable[[], Iterable[bytes]],
    *,
    refresh: Callable[[], str] | None = None,
    directory: Path | str | None = None,
) -> threading.Thread:
    """Start (unless one runs already in this process) a thread that renders key's latest
    generation; another process rendering it meanwhile makes the thread return at once.
    The thread closes the database connections it opened."""
    slot = (str(folder(directory)), key)
    with _renderers_lock:
        running = _renderers.get(slot)
        if running is not None and running.is_alive():
            return running

        def run():
            try:
                ensure(key, token, render, refresh=refresh, directory=directory)
            except Exception:
                logger.exception("rendering the feed %s in the background failed", key)
            finally:
                from django.db import connections

                connections.close_all()

        thread = threading.Thread(target=run, name=f"feed-{key[:12]}", daemon=True)
        _renderers[slot] = thread
        thread.start()
        return thread


def newest(key: str, *, directory: Path | str | None = None) -> str | None:
    """The generation id of the most recent complete rendering of key on disk, if any."""
    where = folder(directory)
    best: tuple[float, str] | None = None
    try:
        entries = list(os.scandir(where))
    except FileNotFoundError:
        return None
    for entry in entries:
        parts = entry.name.split(".")
        if len(parts) == 3 and parts[0] == key and parts[2] == "json":
            try:
                mtime = entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if best is None or mtime > best[0]:
                best = (mtime, parts[1])
    return best[1] if best else None


def _fsync_dir(where: Path) -> None:
    fd = os.open(where, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(where: Path, key: str, gen: str, token: str, render) -> None:
    stem = f".{key}.{gen}.{os.getpid()}-{threading.get_ident()}.tmp"
    plain_tmp, gzip_tmp = where / stem, where / f"{stem}.gz"
    try:
        with open(plain_tmp, "wb") as plain, open(gzip_tmp, "wb") as raw:
            # filename="": no temporary name in the gzip header; mtime=0: the same bytes
            # for the same feed on every machine.
            with gzip.GzipFile(
                filename="", fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0
            ) as zipped:
                for piece in render():
                    plain.write(piece)
                    zipped.write(piece)
            for handle in (plain, raw):
                handle.flush()
                os.fsync(handle.fileno())
        moved = token_time(token)
        if moved is not None:
            for path in (plain_tmp, gzip_tmp):
                os.utime(path, (moved, moved))
        os.replace(gzip_tmp, _path(where, key, gen, gzipped=True))
        os.replace(plain_tmp, _path(where, key, gen, gzipped=False))
        _fsync_dir(where)
    except BaseException:
        plain_tmp.unlink(missing_ok=True)
        gzip_tmp.unlink(missing_ok=True)
        raise


def clean(*, keep: str, directory: Path | str | None = None) -> list[str]:
    """Remove every rendering of a generation other than `keep`, and temporary files
    left more than an hour ago (a renderer killed mid-way). Returns the names removed."""
    where = folder(directory)
    removed = []
    now = time.time()
    for entry in os.scandir(where):
        name = entry.name
        parts = name.split(".")
        if name.startswith(".") and ".tmp" in name:
            try:
                old = now - entry.stat().st_mtime > STALE_TEMP_SECONDS
            except FileNotFoundError:
                continue
            if not old:
                continue
        elif len(parts) not in (3, 4) or parts[2] != "json" or parts[1] == keep:
            continue
        try:
            os.unlink(entry.path)
            removed.append(name)
        except FileNotFoundError:
            pass
    return removed
