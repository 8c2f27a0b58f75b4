"""`mutualaid serve`: the production server, gunicorn (docs/deploy.md).

    mutualaid serve                                 # 127.0.0.1:8000, WEB_WORKERS workers
    mutualaid serve --host 0.0.0.0 --port 8000 --workers 4 --threads 2
    mutualaid serve --dev                           # Django's runserver, reloads on edits

Before starting it collects static files when the static storage needs it (DEBUG off:
whitenoise's compressed manifest, served from STATIC_ROOT) and makes the cache table when
CACHE_URL is db://. Then gunicorn replaces this process (exec), so signals from systemd
or Ctrl-C reach it directly.
"""

import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def needs_collectstatic() -> bool:
    backend = settings.STORAGES.get("staticfiles", {}).get("BACKEND", "")
    return "Manifest" in backend or not getattr(settings, "WHITENOISE_USE_FINDERS", False)


class Command(BaseCommand):
    help = "Serve the site with gunicorn (what `make run` calls). See docs/deploy.md."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers", type=int, help="processes (default WEB_WORKERS, else 2 per core)"
        )
        parser.add_argument("--threads", type=int, help="threads per process (WEB_THREADS)")
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="static files are already collected"
        )
        parser.add_argument(
            "--dev", action="store_true", help="Django's runserver instead (development only)"
        )

    def handle(self, *args, **opts):
        host, port = opts["host"], str(opts["port"])
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError(f"--port: expected a port number 1..65535, got {port!r}")
        if opts["dev"]:
            self.stdout.write(f"mutualaid: runserver on http://{host}:{port}/ (Ctrl-C to stop)")
            call_command("runserver", f"{host}:{port}", use_reloader=True)
            return
        if needs_collectstatic() and not opts["no_collectstatic"]:
            self.stdout.write(f"mutualaid: collecting static files into {settings.STATIC_ROOT}")
            call_command("collectstatic", interactive=False, verbosity=0)
        if any(c.__class__.__name__ == "DatabaseCache" for c in caches.all(initialized_only=False)):
            call_command("createcachetable", verbosity=0)
        env = dict(os.environ, GUNICORN_BIND=f"{host}:{port}")
        if opts["workers"]:
            env["WEB_WORKERS"] = str(opts["workers"])
        if opts["threads"]:
            env["WEB_THREADS"] = str(opts["threads"])
        env.setdefault(
            "DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
        )
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        argv = [gunicorn, "--config", "python:mutualaid.gunicorn_conf"]
        self.stdout.write(
            f"mutualaid: gunicorn on http://{host}:{port}/ "
            f"({env.get('WEB_WORKERS', 'default')} workers, Ctrl-C to stop)"
        )
        self.stdout.flush()
        sys.stdout.flush()
        os.execvpe(argv[0], argv, env)
