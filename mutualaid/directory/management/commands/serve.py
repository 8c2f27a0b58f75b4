from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve the site (what `make run` calls). Production serving is described in docs/deploy.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, **opts):
        self.stdout.write(
            f"mutualaid: serving on http://{opts['host']}:{opts['port']}/ (Ctrl-C to stop)"
        )
        call_command("runserver", f"{opts['host']}:{opts['port']}", use_reloader=False)
