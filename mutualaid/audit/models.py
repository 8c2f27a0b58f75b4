"""An append-only, hash-chained audit trail (docs/security.md, "Audit and disclosures").

Each event's hash is SHA-256 over the previous event's hash and the canonical JSON of the
event itself, so editing, inserting or deleting any row (except the very last, whose hash
`mutualaid audit verify` prints for anchoring elsewhere) breaks the chain. The model
refuses updates and deletes; database triggers refuse them too (migration 0002).

`detail` holds ids and field NAMES only, never client content.
"""

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    CREATE = "create", "created"
    READ = "read", "read"
    UPDATE = "update", "updated"
    DELETE = "delete", "deleted"
    EXPORT = "export", "exported"
    DISCLOSE = "disclose", "disclosed to a third party"
    DENIED = "denied", "access denied"
    LOGIN = "login", "signed in"
    LOGOUT = "logout", "signed out"
    LOGIN_FAILED = "login_failed", "sign-in failed"
    LOCKOUT = "lockout", "locked out"
    MFA_SETUP = "mfa_setup", "set up two-factor authentication"
    MFA_VERIFIED = "mfa_verified", "second factor verified"
    MFA_FAILED = "mfa_failed", "second factor failed"
    MFA_RECOVERY_USED = "mfa_recovery_used", "recovery code used"
    MFA_RECOVERY_CODES = "mfa_recovery_codes", "recovery codes issued"
    SESSIONS_REVOKED = "sessions_revoked", "signed out of all sessions"
    SESSION_EXPIRED = "session_expired", "session expired (idle)"
    TOKEN_ISSUED = "token_issued", "API token issued"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    TOKEN_REJECTED = "token_rejected", "API token rejected"
    ACCESS_GRANTED = "access_granted", "break-glass access granted"
    ACCESS_REVOKED = "access_revoked", "break-glass access revoked"
    KEYS_ROTATED = "keys_rotated", "encryption keys rotated"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError("record audit events one at a time with record_event()")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    seq = models.BigIntegerField(primary_key=True)  # 1, 2, 3 ... with no gaps
    at = models.DateTimeField(db_index=True)
    # No database FK constraint: removing a user or organisation never touches the trail.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)  # app_label.model
    target_id = models.CharField(max_length=64, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "seq"], name="audit_target_idx"),
            models.Index(fields=["actor", "seq"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        target = f" {self.target_type}:{self.target_id}" if self.target_type else ""
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}{target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        if not self.hash:
            raise AppendOnlyError("create audit events with mutualaid.audit.services.record_event")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")
