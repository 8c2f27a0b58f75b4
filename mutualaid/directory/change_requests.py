"""Problems with listings, reported by anyone and reviewed by directory editors.

Every write goes through these functions (the public form, the admin, tests): keyword-only,
each in one transaction. Reviewing and verifying check the user's model permissions here,
not only in the admin, so no other caller can skip them.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.crypto import salted_hmac

from mutualaid.ops.concurrency import claim_version

from .cache import directory_changed
from .models import ChangeRequest, ChangeRequestKind, ChangeRequestStatus, Meeting

MAX_DETAILS = 2000
DECISIONS = {
    "accept": ChangeRequestStatus.ACCEPTED,
    "accepted": ChangeRequestStatus.ACCEPTED,
    "reject": ChangeRequestStatus.REJECTED,
    "rejected": ChangeRequestStatus.REJECTED,
}
REVIEW_PERMISSION = "directory.change_changerequest"
VERIFY_PERMISSION = "directory.change_meeting"


class ReviewError(ValueError):
    """A review that cannot be recorded: no note, an unknown decision, already reviewed."""


# --- reporting --------------------------------------------------------------------


def client_hash(address: str, *, day: date | None = None) -> str:
    """A keyed hash of the reporter's address with a salt that changes every day.

    The address itself is never stored or cached. The key is SECRET_KEY, so the hash
    cannot be reversed by trying every IPv4 address without it, and the daily salt means
    reports on different days cannot be linked to one another.
    """
    day = day or dj_timezone.now().date()
    return salted_hmac(
        f"mutualaid.report:{day.isoformat()}", address, algorithm="sha256"
    ).hexdigest()


def report_allowed(*, meeting: Meeting, client: str, now: datetime | None = None) -> bool:
    """Count one report from this client (a client_hash) on this meeting; False when over
    REPORT_LIMIT_PER_ADDRESS per hour or REPORT_LIMIT_PER_MEETING per day.

    Fixed windows in the cache framework (the hour and the day in the key): a burst at the
    edge of two windows can reach twice the limit, which is fine for stopping floods.
    """
    now = now or dj_timezone.now()
    windows = [
        (f"report:client:{client}:{now:%Y%m%d%H}", settings.REPORT_LIMIT_PER_ADDRESS, 3600),
        (f"report:meeting:{meeting.pk}:{now:%Y%m%d}", settings.REPORT_LIMIT_PER_MEETING, 86400),
    ]
    allowed = True
    for key, limit, seconds in windows:
        cache.add(key, 0, timeout=seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=seconds)
            count = 1
        allowed = allowed and count <= limit
    return allowed


def file_change_request(
    *,
    meeting: Meeting,
    kind: str,
    details: str = "",
    contact_email: str = "",
    client: str = "",
) -> ChangeRequest:
    """File an open request about a meeting. Raises ValidationError on bad input."""
    details = (details or "").strip()
    contact_email = (contact_email or "").strip()
    errors = {}
    if kind not in ChangeRequestKind.values:
        errors["kind"] = f"unknown kind {kind!r} (use {', '.join(ChangeRequestKind.values)})"
    if len(details) > MAX_DETAILS:
        errors["details"] = f"at most {MAX_DETAILS} characters, got {len(details)}"
    if kind == ChangeRequestKind.OTHER and not details:
        errors["details"] = "say what is wrong"
    if contact_email:
        try:
            validate_email(contact_email)
        except ValidationError:
            errors["contact_email"] = "not an email address"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return ChangeRequest.objects.create(
            meeting=meeting,
            kind=kind,
            details=details,
            contact_email=contact_email,
            client_hash=client,
        )


# --- reviewing --------------------------------------------------------------------


def review_change_request(
    *,
    request: ChangeRequest,
    reviewer,
    decision: str,
    note: str,
    changes: dict | None = None,
    expected_version: int | None = None,
) -> ChangeRequest:
    """Accept or reject an open request, with a note saying what was done or why not.

    Accepting with `changes` also edits the meeting (edit_meeting, from expected_version)
    in the same transaction: a conflicting edit leaves both the request and the meeting
    as they were.

    Raises PermissionDenied unless the reviewer may change change requests, and
    ReviewError for a missing note, an unknown decision or a request already reviewed
    (also when two editors review it at once: the row is locked).
    """
    if not (reviewer and reviewer.is_active and reviewer.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("only directory editors can review reported problems")
    status = DECISIONS.get((decision or "").strip().lower())
    if status is None:
        raise ReviewError(f"unknown decision {decision!r} (use accept or reject)")
    note = (note or "").strip()
    if not note:
        raise ReviewError("a review needs a note: what was changed, or why nothing was")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != ChangeRequestStatus.OPEN:
            raise ReviewError(f"this request was already {locked.get_status_display().lower()}")
        locked.status = status
        locked.reviewer = reviewer
        locked.review_note = note
        locked.reviewed_at = dj_timezone.now()
        locked.save(update_fields=["status", "reviewer", "review_note", "reviewed_at"])
        if changes and status == ChangeRequestStatus.ACCEPTED:
            edit_meeting(
                meeting=locked.meeting,
                user=reviewer,
                expected_version=expected_version,
                changes=changes,
            )
    for name in ("status", "reviewer", "review_note", "reviewed_at"):
        setattr(request, name, getattr(locked, name))
    return locked


def mark_verified(*, meeting: Meeting, user) -> Meeting:
    """Record that an editor checked the listing now (last_verified_at, verified_by).

    Does not touch updated_at: the listing itself did not change.
    """
    if not (user and user.is_active and user.has_perm(VERIFY_PERMISSION)):
        raise PermissionDenied("only directory editors can verify listings")
    now = dj_timezone.now()
    with transaction.atomic():
        Meeting.objects.filter(pk=meeting.pk).update(last_verified_at=now, verified_by=user)
        directory_changed()  # update() sends no signals; "stale" flags change (cache.py)
        claim_version(meeting, None)
    meeting.last_verified_at = now
    meeting.verified_by = user
    return meeting


# The fields an editor may change by hand; the rest are derived, or belong to the import.
NOT_EDITABLE = {"id", "slug", "start_minute", "week_minute", "created_at", "updated_at"}
NOT_EDITABLE |= {"version", "verified_by", "source", "source_ref", "duplicate_of"}


def edit_meeting(*, meeting: Meeting, user, expected_version: int | None, changes: dict) -> Meeting:
    """Change a listing by hand, only if nobody else changed it since expected_version.

    Raises PermissionDenied unless the user may change meetings; ValidationError naming
    the field for an unknown field or a bad value; EditConflict (a ValidationError with
    code "conflict") when the stored version is not expected_version. On any error
    nothing is written. Returns the meeting as stored, at its new version.
    """
    if not (user and user.is_active and user.has_perm(VERIFY_PERMISSION)):
        raise PermissionDenied("only directory editors can change listings")
    editable = {f.name for f in Meeting._meta.concrete_fields} - NOT_EDITABLE
    unknown = sorted(set(changes) - editable)
    if unknown:
        raise ValidationError({name: "not a field an editor can change" for name in unknown})
    with transaction.atomic():
        stored = Meeting.objects.select_for_update().get(pk=meeting.pk)
        claim_version(stored, expected_version, what=f"The listing {stored.name!r}")
        for name, value in changes.items():
            setattr(stored, name, value)
        stored.full_clean(exclude=["slug"], validate_unique=False)
        stored.save()
    return stored
