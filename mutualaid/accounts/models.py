"""Organisations, their teams, and who works where in which role (docs/security.md)."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .encryption import EncryptedTextField


class Organisation(models.Model):
    """A treatment service, prison, hospital or other body. Meetings held inside one
    (not open to the public) are visible only to its own staff."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    # The commissioning area the service belongs to, e.g. "Brighton and Hove".
    area = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team of keyworkers inside an organisation (a team lead sees the team's caseload)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"


class Role(models.TextChoices):
    KEYWORKER = "keyworker", gettext_lazy("Keyworker")
    TEAM_LEAD = "team_lead", gettext_lazy("Team lead")
    MANAGER = "manager", gettext_lazy("Service manager")
    COMMISSIONER = "commissioner", gettext_lazy("Commissioner (aggregates only)")
    DIRECTORY_EDITOR = "directory_editor", gettext_lazy("Directory editor")
    ADMINISTRATOR = "administrator", gettext_lazy("Administrator")


class Membership(models.Model):
    """A staff account's one place of work and role. No membership: no casework access."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    # Commissioners: the commissioning area whose (suppressed) aggregates they see.
    area = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"

    def clean(self):
        if self.team_id and self.team.organisation_id != self.organisation_id:
            raise ValidationError({"team": gettext("The team belongs to another organisation.")})


class AccessGrantQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=at)


class AccessGrant(models.Model):
    """Break-glass access: an administrator may see one organisation's client data only
    while an explicit, expiring, audited grant exists. The reason is encrypted at rest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="access_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_grants_given",
    )
    reason = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} → {self.organisation} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


def default_token_expiry():
    return timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)


def hash_token(plaintext: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough (nothing to brute-force)."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, at=None):
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=at, user__is_active=True)


class ApiToken(models.Model):
    """A staff API token. Only its SHA-256 is stored; the plaintext is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=8, help_text=gettext_lazy("First 8 characters, to recognise it")
    )
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_token_expiry)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class SessionEpoch(models.Model):
    """Per-user counter copied into each session at sign-in; bumping it ends every session
    of that user at their next request ("sign out everywhere")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_epoch"
    )
    value = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.value}"
