from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from mutualaid.directory.demo import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    DEMO_SOURCE_NAME,
    DEMO_TOWNS,
    DemoError,
    load_demo,
)


class Command(BaseCommand):
    help = (
        f"Load a demo directory of synthetic UK meetings (source {DEMO_SOURCE_NAME!r}) "
        f"across {len(DEMO_TOWNS)} towns."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--count", type=int, default=DEFAULT_COUNT, metavar="N", help="how many meetings"
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="the same seed gives the same meetings"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the directory already has meetings (for `make run`)",
        )
        parser.add_argument(
            "--replace", action="store_true", help="delete the demo meetings first, then load"
        )

    def handle(self, *args, **opts):
        try:
            with transaction.atomic():
                if opts["replace"]:
                    # The demo service's clients refer to demo meetings, PROTECTed like any
                    # client's: remove the demo service first (demo_casework reloads it).
                    from mutualaid.casework.demo import remove_casework_demo

                    remove_casework_demo()
                result = load_demo(
                    opts["count"],
                    seed=opts["seed"],
                    if_empty=opts["if_empty"],
                    replace=opts["replace"],
                )
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        except ProtectedError as exc:
            raise CommandError(
                f"{len(exc.protected_objects)} casework records of a real service refer to "
                "demo meetings, so the demo directory cannot be replaced (client journeys "
                "keep their meetings)."
            ) from None
        if result.skipped:
            self.stdout.write("The directory already has meetings; demo not loaded.")
            return
        replaced = f" (replacing {result.removed})" if result.removed else ""
        self.stdout.write(
            f"Loaded {result.created} demo meetings into {DEMO_SOURCE_NAME!r}{replaced} "
            f"in {result.seconds:.1f} s."
        )
        # Casework: a demo service, its staff (logins printed once), volunteers and clients.
        call_command("demo_casework", replace=opts["replace"], stdout=self.stdout)
