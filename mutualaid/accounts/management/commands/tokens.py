"""`mutualaid tokens issue|list|revoke`: staff API tokens from the command line.

Issuing at the CLI is for administrators (`--by` names one: their membership role is
checked and the event is audited with them as actor). The plaintext is printed once.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mutualaid.accounts.api_auth import issue_token, revoke_token
from mutualaid.accounts.models import ApiToken
from mutualaid.accounts.roles import can_see_client_data, is_administrator


class Command(BaseCommand):
    help = "Issue, list or revoke staff API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        issue = sub.add_parser("issue", help="issue a token (prints it once)")
        issue.add_argument("--user", required=True, help="username the token acts as")
        issue.add_argument("--by", required=True, help="username of the issuing administrator")
        issue.add_argument("--name", required=True)
        issue.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            required=True,
            help="e.g. casework:read (repeat for more)",
        )
        issue.add_argument("--days", type=int, default=None)
        listing = sub.add_parser("list", help="list tokens (never their secrets)")
        listing.add_argument("--user", help="only this username's tokens")
        revoke = sub.add_parser("revoke", help="revoke a token by id or prefix")
        revoke.add_argument("token", help="token id or its 8-character prefix")
        revoke.add_argument("--by", required=True, help="username of the administrator")

    def _user(self, username):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc

    def _administrator(self, username):
        user = self._user(username)
        if not is_administrator(user):
            raise CommandError(f"{username!r} is not an administrator")
        return user

    def handle(self, *args, **options):
        getattr(self, options["subcommand"])(options)

    def issue(self, options):
        admin = self._administrator(options["by"])
        user = self._user(options["user"])
        if not can_see_client_data(user):
            raise CommandError(f"{user.username!r} cannot see client data: no token")
        try:
            token, plaintext = issue_token(
                user=user,
                name=options["name"],
                scopes=options["scopes"],
                days=options["days"],
                actor=admin,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"token #{token.pk} for {user.username}, scopes {', '.join(token.scopes)}, "
            f"expires {token.expires_at:%Y-%m-%d}. It is shown only now:"
        )
        self.stdout.write(plaintext)

    def list(self, options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if options.get("user"):
            tokens = tokens.filter(user__username=options["user"])
        now = timezone.now()
        for t in tokens:
            state = "revoked" if t.revoked_at else ("expired" if t.expires_at <= now else "active")
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            self.stdout.write(
                f"#{t.pk}  {t.prefix}…  {t.user.username}  {t.name}  {','.join(t.scopes)}  "
                f"{state}  expires {t.expires_at:%Y-%m-%d}  last used {used}"
            )

    def revoke(self, options):
        admin = self._administrator(options["by"])
        ref = options["token"]
        query = (
            ApiToken.objects.filter(pk=int(ref))
            if ref.isdigit()
            else ApiToken.objects.filter(prefix=ref)
        )
        tokens = list(query[:2])
        if len(tokens) != 1:
            raise CommandError(f"{len(tokens) or 'no'} token(s) match {ref!r}")
        revoke_token(tokens[0], actor=admin)
        self.stdout.write(f"revoked #{tokens[0].pk} {tokens[0].prefix}…")
