"""The client record's life after the casework: retention, subject access, erasure.

- **Retention** (`mutualaid retention`, dry run by default; `--apply` from cron): a closed
  record whose `closed_at` is more than RETENTION_CLOSED_CASE_MONTHS months ago is
  anonymised: the name, contact details, area, the preferences that describe the person,
  every free-text note and what a volunteer was told are removed; the shape of the
  journey (dates, stages, outcomes, attendance, participation counts, BARC-10 totals)
  stays for the service's figures. Anonymising twice changes nothing.
- **Subject access** (`subject_access_data`, JSON and PDF; a manager on the web or
  `mutualaid subject-access`): everything held about one client, in words, with the
  accounting of who read or exported the record. Each export is audited.
- **Erasure on request** (`erase_client`; a manager on the web or `mutualaid erase`):
  the record and every row about the client are deleted. Coming volunteer introductions
  are cancelled first (the volunteer is told, without the client's name). The audit
  trail keeps its events about the record: they hold ids, actions and field names, never
  client content, and cannot be removed without breaking the hash chain.

Every write here is audited in its own transaction, with no client content in `detail`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.accounts.models import Role
from mutualaid.accounts.roles import membership_of
from mutualaid.audit.selectors import disclosures_for
from mutualaid.audit.services import record_event

from . import selectors
from .models import (
    Assessment,
    Barc10,
    Client,
    ClientStatus,
    FollowUp,
    Goal,
    Introduction,
    IntroductionStatus,
)

# --- who may ----------------------------------------------------------------------------


def can_manage_lifecycle(user, client: Client) -> bool:
    """Subject access exports and erasure: the service's managers only (least privilege:
    a keyworker works with a client, a manager answers the client's data-protection
    requests), and only for clients of their own service."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.MANAGER:
        return False
    return selectors.clients_visible_to(user).filter(pk=client.pk).exists()


def manager_and_client(username: str, client_id: int):
    """For commands: (user, client) when `username` manages that client's service.
    One answer for "no such user or client" and "not yours": no probing by id."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    client = Client.objects.filter(pk=client_id).first()
    if user is None or client is None or not can_manage_lifecycle(user, client):
        raise PermissionDenied(
            f"{username!r} is not a manager of a service with client record {client_id}"
        )
    return user, client


def _require_manager(actor, client: Client) -> None:
    if not can_manage_lifecycle(actor, client):
        raise PermissionDenied("Only a manager of this service can do that.")


# --- retention ---------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` calendar months earlier (31 March less one
    month is 28 or 29 February)."""
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def retention_cutoff(*, now: datetime | None = None, months: int | None = None) -> datetime:
    months = settings.RETENTION_CLOSED_CASE_MONTHS if months is None else months
    return months_before(now or timezone.now(), months)


def due_for_anonymisation(*, now: datetime | None = None):
    """Closed, not yet anonymised, closed before the cut-off (strictly)."""
    return Client.objects.filter(
        status=ClientStatus.CLOSED,
        anonymised_at__isnull=True,
        closed_at__lt=retention_cutoff(now=now),
    ).order_by("closed_at", "pk")


# What anonymising removes (docs/security.md, "Retention"): model -> encrypted text fields.
FREE_TEXT = {
    Assessment: ("experience_note", "concerns", "preferences", "outcome_reason"),
    Goal: ("description", "review_note"),
    Introduction: ("shared_first_name", "agreed_contact"),
    FollowUp: ("how_it_felt", "barriers"),
}
CLIENT_CLEARED = (
    "case_reference",
    "preferred_name",
    "contact_email",
    "contact_phone",
    "area_name",
    "latitude",
    "longitude",
    "preferences_note",
    "pref_types",
    "pref_languages",
    "pref_days",
    "pref_times",
    "pref_volunteer_gender",
)


@dataclass
class RetentionItem:
    client_id: int
    organisation: str
    closed_at: datetime
    # How many rows of each kind lose their free text (only rows with some text count).
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class RetentionRun:
    months: int
    cutoff: datetime
    applied: bool
    items: list[RetentionItem] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for item in self.items:
            for key, n in item.counts.items():
                totals[key] = totals.get(key, 0) + n
        return totals


def _text_counts(client: Client) -> dict[str, int]:
    counts = {"clients": 1}
    for model, fields in FREE_TEXT.items():
        rows = model.objects.filter(client=client)
        n = sum(1 for row in rows if any(getattr(row, f) for f in fields))
        if n:
            counts[model._meta.model_name + "_notes"] = n
    barcs = sum(1 for b in Barc10.objects.filter(client=client) if b.items)
    if barcs:
        counts["barc10_answers"] = barcs
    for name in ("shares", "self_report_links"):
        n = getattr(client, name).count()
        if n:
            counts[name] = n
    return counts


def anonymise_client(*, client: Client, actor=None, request=None, reason: str = "retention"):
    """Remove everything that identifies the client or records their words; keep dates,
    stages, outcomes, attendance and scores. Idempotent: an anonymised record is left."""
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.anonymised_at is not None:
            return False
        now = timezone.now()
        for model, fields in FREE_TEXT.items():
            for row in model.objects.filter(client=client):
                if any(getattr(row, f) for f in fields):
                    for f in fields:
                        setattr(row, f, "")
                    row.save(update_fields=list(fields))
        for barc in Barc10.objects.filter(client=client):
            barc.items_json = "[]"  # the ten answers; the total stays for reporting
            barc.save(update_fields=["items_json"])
        client.shares.all().delete()
        client.self_report_links.all().delete()  # attendance keeps via_link = NULL
        client.case_reference = f"anonymised-{client.pk}"
        client.preferred_name = ""
        client.contact_email = client.contact_phone = client.area_name = ""
        client.latitude = client.longitude = None
        client.preferences_note = ""
        client.pref_types, client.pref_languages = [], []
        client.pref_days, client.pref_times = [], []
        client.pref_volunteer_gender = ""
        client.anonymised_at = now
        client.version = F("version") + 1
        client.save()
        record_event(
            actor=actor,
            action="update",
            target=client,
            request=request,
            organisation=client.organisation_id,
            detail={
                "anonymised": True,
                "reason": reason,
                "fields": sorted(CLIENT_CLEARED),
                "via": "retention" if actor is None else "staff",
            },
        )
    return True


def retention(*, apply: bool = False, now: datetime | None = None) -> RetentionRun:
    """What the policy anonymises now (dry run), or anonymise it (apply). One transaction
    per client, so a long run can be interrupted and run again."""
    now = now or timezone.now()
    months = settings.RETENTION_CLOSED_CASE_MONTHS
    run = RetentionRun(months=months, cutoff=retention_cutoff(now=now), applied=apply)
    for client in due_for_anonymisation(now=now).select_related("organisation"):
        item = RetentionItem(
            client_id=client.pk,
            organisation=client.organisation.slug,
            closed_at=client.closed_at,
            counts=_text_counts(client),
        )
        if apply and not anonymise_client(client=client):
            continue  # anonymised meanwhile by another run
        run.items.append(item)
    if apply and run.items:
        record_event(
            actor=None,
            action="update",
            target=None,
            detail={
                "retention_run": True,
                "months": months,
                "anonymised": len(run.items),
                "clients": [i.client_id for i in run.items][:500],
            },
        )
    return run


# --- subject access ----------------------------------------------------------------------


def _when(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    return value.isoformat()


def _staff(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def subject_access_data(client: Client, *, actor=None, now: datetime | None = None) -> dict:
    """Everything held about one client, in words (UK GDPR Article 15). Volunteers are
    third parties: they appear as "a volunteer". Staff appear by name (they act for the
    service). The accounting lists who read, exported or disclosed the record."""
    from .views import _preferences_text  # the same words as the client's page

    now = now or timezone.now()
    c = client
    meeting_name = lambda m: m.name if m is not None else None  # noqa: E731

    def fellowship(f):
        return f.name if f is not None else None

    data = {
        "about": (
            "Everything this service's mutual-aid casework holds about you, as of the date "
            "below. Notes are shown as written. Other members of any group are never recorded."
        ),
        "generated_at": _when(now),
        "generated_by": _staff(actor),
        "service": c.organisation.name,
        "record": {
            "case_reference": c.case_reference,
            "preferred_name": c.preferred_name,
            "team": c.team.name if c.team_id else None,
            "keyworker": _staff(c.keyworker),
            "contact_email": c.contact_email,
            "contact_phone": c.contact_phone,
            "area": c.area_name,
            "area_latitude": c.latitude,
            "area_longitude": c.longitude,
            "preferences_and_barriers": c.preferences_note,
            "preferences": dict(_preferences_text(c)),
            "stage": c.get_stage_display(),
            "status": c.get_status_display(),
            "created_at": _when(c.created_at),
            "closed_at": _when(c.closed_at),
            "anonymised_at": _when(c.anonymised_at),
        },
        "consents": [
            {
                "consent": k.get_scope_display(),
                "given_at": _when(k.given_at),
                "recorded_by": _staff(k.recorded_by),
                "withdrawn_at": _when(k.withdrawn_at),
            }
            for k in c.consents.select_related("recorded_by").order_by("given_at", "pk")
        ],
        "stage_changes": [
            {
                "at": _when(s.changed_at),
                "from": s.get_from_stage_display() if s.from_stage else None,
                "to": s.get_to_stage_display(),
                "reason": s.reason,
                "by": _staff(s.changed_by),
            }
            for s in c.stage_changes.select_related("changed_by")
        ],
        "conversations_about_mutual_aid": [
            {
                "held_on": _when(a.held_on),
                "previous_experience": a.get_previous_experience_display(),
                "what_happened_before": a.experience_note,
                "concerns": a.concerns,
                "preferences_discussed": a.preferences,
                "guide_used_together": a.guide_used,
                "outcome": a.get_outcome_display(),
                "reason": a.outcome_reason,
                "recorded_by": _staff(a.recorded_by),
            }
            for a in c.assessments.select_related("recorded_by").order_by("held_on", "pk")
        ],
        "meetings_chosen": [
            {
                "meeting": meeting_name(m.meeting),
                "status": m.get_status_display(),
                "chosen_at": _when(m.chosen_at),
            }
            for m in c.meeting_choices.select_related("meeting").order_by("chosen_at", "pk")
        ],
        "goals": [
            {
                "goal": g.get_kind_display(),
                "meeting": meeting_name(g.meeting),
                "details": g.description,
                "by": _when(g.due_on),
                "status": g.get_status_display(),
                "review_note": g.review_note,
            }
            for g in c.goals.select_related("meeting")
        ],
        "introductions": [
            {
                "meeting": meeting_name(i.meeting),
                "starts_at": _when(i.starts_at),
                "kind": i.get_kind_display(),
                "with": "a volunteer" if i.volunteer_id else None,
                "first_name_shared": i.shared_first_name,
                "agreed_contact": i.agreed_contact,
                "status": i.get_status_display(),
                "requested_at": _when(i.requested_at),
            }
            for i in c.introductions.select_related("meeting")
        ],
        "follow_ups": [
            {
                "kind": f.get_kind_display(),
                "due_on": _when(f.due_on),
                "done_at": _when(f.done_at),
                "attended": f.get_attended_display() if f.attended else None,
                "how_it_felt": f.get_felt_display() if f.felt else None,
                "in_their_words": f.how_it_felt,
                "barriers": f.barriers,
                "next_step": f.get_next_step_display() if f.next_step else None,
            }
            for f in c.follow_ups.all()
        ],
        "meetings_attended": [
            {
                "date": _when(a.attended_on),
                "meeting": meeting_name(a.meeting),
                "fellowship": fellowship(a.fellowship),
                "in_person_or_online": a.get_mode_display(),
                "how_it_felt": a.get_felt_display() if a.felt else None,
                "recorded": a.get_source_display(),
            }
            for a in c.attendances.select_related("meeting", "fellowship").order_by(
                "attended_on", "pk"
            )
        ],
        "check_ins": [
            {
                "taken_on": _when(k.taken_on),
                "period_days": k.period_days,
                "answers": k.answers,
                "recorded": k.get_source_display(),
            }
            for k in c.check_ins.order_by("taken_on", "pk")
        ],
        "barc10": [
            {"taken_on": _when(b.taken_on), "total": b.total, "answers": b.items}
            for b in c.barc10s.order_by("taken_on", "pk")
        ],
        "self_report_links": [
            {
                "created_at": _when(link.created_at),
                "expires_at": _when(link.expires_at),
                "revoked_at": _when(link.revoked_at),
                "last_used_at": _when(link.last_used_at),
            }
            for link in c.self_report_links.order_by("created_at", "pk")
        ],
        "shared_with_staff": [
            {"staff": _staff(s.user), "from": _when(s.created_at), "until": _when(s.revoked_at)}
            for s in c.shares.select_related("user").order_by("created_at", "pk")
        ],
        "accounting_of_disclosures": [
            {
                "at": _when(e.at),
                "who": e.actor_label or "the system",
                "action": e.get_action_display(),
            }
            for e in disclosures_for(c)
        ],
    }
    return data


def export_subject_access(*, actor, client: Client, fmt: str, request=None):
    """(bytes, content type, file name) for a manager; audited as `export`."""
    import json

    _require_manager(actor, client)
    if fmt not in ("json", "pdf"):
        raise ValidationError({"format": "Choose json or pdf."})
    data = subject_access_data(client, actor=actor)
    name = f"subject-access-client-{client.pk}.{fmt}"
    if fmt == "json":
        body = json.dumps(data, indent=2, ensure_ascii=False).encode()
        content_type = "application/json"
    else:
        from django.template.loader import render_to_string

        from mutualaid.lib.pdf import render_pdf

        def words(key):
            return key.replace("_", " ").capitalize()

        def text(value):
            if isinstance(value, dict):
                return "; ".join(f"{words(k)}: {text(v)}" for k, v in value.items())
            if isinstance(value, list):
                return ", ".join(str(text(v)) for v in value)
            if value is True or value is False:
                return _("yes") if value else _("no")
            return value

        record = data["record"]
        context = {
            "data": data,
            "record_rows": [(words(k), text(v)) for k, v in record.items() if k != "preferences"]
            + [(k, v) for k, v in record["preferences"].items()],
            "sections": [
                (words(k), [[(words(f), text(v)) for f, v in row.items()] for row in rows])
                for k, rows in data.items()
                if isinstance(rows, list)
            ],
        }
        html = render_to_string("casework/subject_access_pdf.html", context)
        body = render_pdf(html, title=f"Subject access: client {client.pk}").data
        content_type = "application/pdf"
    with transaction.atomic():
        record_event(
            actor=actor,
            action="export",
            target=client,
            request=request,
            organisation=client.organisation_id,
            detail={"kind": "subject_access", "format": fmt, "bytes": len(body)},
        )
    return body, content_type, name


# --- erasure ------------------------------------------------------------------------------


def erasure_counts(client: Client) -> dict[str, int]:
    """How many rows of each kind erasing this client deletes."""
    counts = {"clients": 1}
    for rel in (
        "consents",
        "shares",
        "stage_changes",
        "assessments",
        "meeting_choices",
        "goals",
        "introductions",
        "follow_ups",
        "attendances",
        "check_ins",
        "barc10s",
        "self_report_links",
    ):
        n = getattr(client, rel).count()
        if n:
            counts[rel] = n
    return counts


@transaction.atomic
def erase_client(*, actor, client: Client, request=None, confirm: str = "") -> dict[str, int]:
    """Delete the client's record and everything about them, on the client's request.
    `confirm` must repeat the case reference (a slip of the mouse must not erase)."""
    from . import services

    _require_manager(actor, client)
    if confirm.strip() != client.case_reference:
        raise ValidationError(
            {"confirm": "Type the case reference exactly as shown to confirm the erasure."}
        )
    client = Client.objects.select_for_update().get(pk=client.pk)
    now = timezone.now()
    # Volunteers who agreed to help are told it is off (the email names no one).
    for intro in client.introductions.filter(
        status__in=[IntroductionStatus.REQUESTED, IntroductionStatus.ACCEPTED], starts_at__gt=now
    ).select_related("meeting__fellowship", "volunteer"):
        services._cancel(actor=actor, introduction=intro, request=request, now=now)
    counts = erasure_counts(client)
    record_event(
        actor=actor,
        action="delete",
        target=client,
        request=request,
        organisation=client.organisation_id,
        detail={"erased": True, "on_request": True, **counts},
    )
    client.delete()
    return counts
