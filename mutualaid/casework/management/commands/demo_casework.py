"""`mutualaid demo_casework`: a demo treatment service with staff, volunteers and ~40
synthetic clients (run at the end of `mutualaid demo` too). Prints the demo logins'
password and each one's TOTP secret and recovery codes once; random on every load."""

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from mutualaid.casework.demo import (
    DEFAULT_CLIENTS,
    DEFAULT_SEED,
    DEMO_NAME,
    load_casework_demo,
    remove_casework_demo,
    reset_credentials,
)


class Command(BaseCommand):
    help = "Load a demo service with staff, volunteers and synthetic clients (casework)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, metavar="N")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--replace", action="store_true", help="delete the demo service first, then load"
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="give the demo staff new passwords and TOTP secrets, and print them",
        )

    def handle(self, *args, **opts):
        if not 0 <= opts["clients"] <= 500:
            raise CommandError("--clients must be 0 to 500")
        if opts["reset_passwords"]:
            staff = reset_credentials()
            if not staff:
                raise CommandError("no demo service yet: run `mutualaid demo_casework` first")
            self._print_logins(staff)
            return
        if opts["replace"]:
            remove_casework_demo()
        # The demo's introductions would email made-up volunteers: send nothing.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            result = load_casework_demo(clients=opts["clients"], seed=opts["seed"])
        if not result.created:
            self.stdout.write(
                f"The casework demo ({DEMO_NAME}) is already loaded; "
                "`mutualaid demo_casework --reset-passwords` prints new demo logins."
            )
            return
        self.stdout.write(
            f"Loaded the casework demo: {DEMO_NAME}, {len(result.staff)} staff, "
            f"{result.volunteers} volunteers, {result.clients} clients "
            f"(meetings from the directory: {result.meetings})."
        )
        if not result.meetings:
            self.stdout.write("No meetings in the directory: run `mutualaid demo` for journeys.")
        self._print_logins(result.staff)

    def _print_logins(self, staff):
        w = self.stdout.write
        w("")
        w("Demo logins (shown once; sign in at /accounts/login/, then go to /casework/).")
        w(f"Password for every demo login: {staff[0].password}")
        for s in staff:
            w(f"  {s.username:<18} {s.role}")
            w(f"  {'':<18} TOTP secret: {s.totp_secret}")
            w(f"  {'':<18} recovery codes (one per sign-in): {', '.join(s.recovery_codes)}")
        w("")
        w("Second factor: add a login's TOTP secret to any authenticator app (or run")
        w("`oathtool --totp -b SECRET`), or use one of its recovery codes per sign-in.")
        w("Start as demo-keyworker. demo-commissioner and demo-admin see no client records.")
