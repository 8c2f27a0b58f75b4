"""Staff API for casework, mounted at /api/v1/casework/ (one router on the directory's
NinjaAPI). Auth: a staff token (``Authorization: Bearer ...``) with the casework:read or
casework:write scope, or the browser's own session verified with a second factor.

The same selectors as the web pages decide what each person sees: a client outside their
scope is a 404, and the attempt is audited as "denied".
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from mutualaid.accounts.api_auth import StaffTokenAuth, VerifiedSessionAuth
from mutualaid.audit.services import record_event
from mutualaid.directory.models import Fellowship, Meeting
from mutualaid.ops.concurrency import EditConflict

from . import selectors, services
from .models import Client

READ = [StaffTokenAuth(scopes=["casework:read"]), VerifiedSessionAuth()]
WRITE = [StaffTokenAuth(scopes=["casework:write"]), VerifiedSessionAuth()]

router = Router(tags=["casework"])


class ErrorOut(Schema):
    detail: str


class ErrorItemOut(Schema):
    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorOut(Schema):
    """ninja's answer to a request that does not fit the schema (422)."""

    detail: list[ErrorItemOut]


class ClientSummary(Schema):
    id: int
    case_reference: str
    preferred_name: str
    stage: str
    status: str
    keyworker: str | None
    version: int


class TimelineOut(Schema):
    at: str
    kind: str
    title: str
    detail: str
    actor: str
    self_reported: bool


class IntroductionOut(Schema):
    id: int
    meeting_id: int
    meeting: str
    starts_at: str
    kind: str
    status: str
    volunteer: str | None


class ClientDetail(ClientSummary):
    pref_fellowships: list[str]
    pref_types: list[str]
    pref_languages: list[str]
    introductions: list[IntroductionOut]
    timeline: list[TimelineOut]


class FollowUpOut(Schema):
    id: int
    client_id: int
    case_reference: str
    kind: str
    due_on: str
    overdue: bool


class ClientIn(Schema):
    case_reference: str = Field(min_length=1, max_length=40)
    preferred_name: str = Field(min_length=1, max_length=100)
    area_name: str = ""
    pref_fellowships: list[str] = []
    pref_types: list[str] = []
    pref_languages: list[str] = []


class ClientPatch(Schema):
    """Only the fields given change. version: the one you read (GET); if the record has
    changed since, the answer is 409 and nothing is changed."""

    version: int
    case_reference: str | None = Field(None, min_length=1, max_length=40)
    preferred_name: str | None = Field(None, min_length=1, max_length=100)
    area_name: str | None = Field(None, max_length=100)
    pref_types: list[str] | None = None
    pref_languages: list[str] | None = None


class AttendanceIn(Schema):
    attended_on: date
    meeting_id: int | None = None
    fellowship: str | None = None
    mode: str = "in_person"
    felt: str = ""


class CreatedOut(Schema):
    id: int


def _summary(client: Client) -> dict:
    return {
        "id": client.pk,
        "case_reference": client.case_reference,
        "preferred_name": client.preferred_name,
        "stage": client.stage,
        "status": client.status,
        "keyworker": client.keyworker.get_username() if client.keyworker else None,
        "version": client.version,
    }


def _client(request, pk: int, *, edit: bool = False) -> Client:
    client = (
        selectors.clients_visible_to(request.user).select_related("keyworker").filter(pk=pk).first()
    )
    if client is None:
        record_event(
            actor=request.user,
            action="denied",
            target=("casework.client", pk),
            request=request,
            detail={"path": request.path[:200], "method": request.method, "reason": "not in scope"},
        )
        raise HttpError(404, "There is no such client in your caseload.")
    if edit and not selectors.can_edit_client(request.user, client):
        record_event(
            actor=request.user,
            action="denied",
            target=client,
            request=request,
            detail={"path": request.path[:200], "method": request.method, "reason": "read only"},
        )
        raise HttpError(403, "Your access to this client is read only.")
    return client


def _reject_nul(**values) -> None:
    """PostgreSQL cannot store or even compare text with NUL characters: a clear 400
    naming the field instead of a database error (found by schemathesis)."""
    for name, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(item, str) and "\x00" in item for item in items):
            raise HttpError(400, f"{name}: must not contain NUL characters")


def _error(exc: ValidationError) -> HttpError:
    if hasattr(exc, "error_dict"):
        text = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    else:
        text = " ".join(exc.messages)
    return HttpError(400, text)


@router.get(
    "/clients",
    response={200: list[ClientSummary], 400: ErrorOut, 422: ValidationErrorOut},
    auth=READ,
    summary="Clients you may see",
)
def list_clients(request, stage: str | None = None, status: str = "active"):
    _reject_nul(stage=stage, status=status)
    clients = selectors.clients_visible_to(request.user).select_related("keyworker")
    if status:
        clients = clients.filter(status=status)
    if stage:
        clients = clients.filter(stage=stage)
    rows = [_summary(c) for c in clients.order_by("case_reference")]
    record_event(
        actor=request.user,
        action="read",
        request=request,
        detail={"view": "api:clients", "clients": len(rows)},
    )
    return rows


@router.get(
    "/clients/{int:pk}",
    response={200: ClientDetail, 404: ErrorOut, 422: ValidationErrorOut},
    auth=READ,
    summary="One client, with their journey",
)
def get_client(request, pk: int):
    client = _client(request, pk)
    record_event(actor=request.user, action="read", target=client, request=request)
    introductions = [
        {
            "id": i.pk,
            "meeting_id": i.meeting_id,
            "meeting": i.meeting.name,
            "starts_at": i.starts_at.isoformat(),
            "kind": i.kind,
            "status": i.status,
            "volunteer": i.volunteer.display_name if i.volunteer_id else None,
        }
        for i in client.introductions.select_related("meeting", "volunteer").order_by("starts_at")
    ]
    timeline = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "title": e.title,
            "detail": e.detail,
            "actor": e.actor,
            "self_reported": e.self_reported,
        }
        for e in selectors.timeline(client)
    ]
    return {
        **_summary(client),
        "pref_fellowships": sorted(client.pref_fellowships.values_list("code", flat=True)),
        "pref_types": client.pref_types,
        "pref_languages": client.pref_languages,
        "introductions": introductions,
        "timeline": timeline,
    }


@router.get(
    "/follow-ups",
    response={200: list[FollowUpOut], 400: ErrorOut, 422: ValidationErrorOut},
    auth=READ,
    summary="Follow-ups due",
)
def list_follow_ups(request, within_days: int = 7):
    if not 0 <= within_days <= 90:
        raise HttpError(400, "within_days must be 0 to 90")
    today = timezone.localdate()
    items = selectors.follow_ups_due(request.user, today=today, within_days=within_days)
    record_event(
        actor=request.user,
        action="read",
        request=request,
        detail={"view": "api:follow_ups", "items": len(items)},
    )
    return [
        {
            "id": f.pk,
            "client_id": f.client_id,
            "case_reference": f.client.case_reference,
            "kind": f.kind,
            "due_on": f.due_on.isoformat(),
            "overdue": f.due_on < today,
        }
        for f in items
    ]


@router.patch(
    "/clients/{int:pk}",
    response={
        200: ClientSummary,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ValidationErrorOut,
    },  # fmt: skip
    auth=WRITE,
    summary="Change a client (send the version you read: 409 if it changed since)",
)
def update_client(request, pk: int, payload: ClientPatch):
    from mutualaid.lib import vocabulary

    _reject_nul(**payload.dict())
    client = _client(request, pk, edit=True)
    fields = payload.dict(exclude_unset=True)
    version = fields.pop("version")
    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        if "pref_types" in fields:
            fields["pref_types"] = sorted(
                {vocabulary.resolve_type(t).key for t in fields["pref_types"]}
            )
        if "pref_languages" in fields:
            fields["pref_languages"] = sorted(
                {vocabulary.resolve_language(c).code for c in fields["pref_languages"]}
            )
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    if fields.get("area_name"):
        from .forms import resolve_area

        try:
            fields["latitude"], fields["longitude"] = resolve_area(fields["area_name"])
        except ValueError as exc:
            raise HttpError(400, f"area_name: {exc}") from None
    elif "area_name" in fields:
        fields["latitude"] = fields["longitude"] = None
    try:
        services.update_client(
            actor=request.user, client=client, request=request, expected_version=version, **fields
        )
    except EditConflict as exc:
        raise HttpError(409, exc.messages[0]) from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    except ValidationError as exc:
        raise _error(exc) from None
    client.refresh_from_db()
    return _summary(client)


@router.post(
    "/clients",
    response={201: CreatedOut, 400: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut},
    auth=WRITE,
    summary="Add a client",
)
def create_client(request, payload: ClientIn):
    _reject_nul(**payload.dict())
    fellowships = list(Fellowship.objects.filter(code__in=payload.pref_fellowships))
    if len(fellowships) != len(set(payload.pref_fellowships)):
        raise HttpError(400, "pref_fellowships: unknown fellowship code")
    from mutualaid.lib import vocabulary

    try:
        types = sorted({vocabulary.resolve_type(t).key for t in payload.pref_types})
        languages = sorted({vocabulary.resolve_language(c).code for c in payload.pref_languages})
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    fields = {"area_name": payload.area_name, "pref_types": types, "pref_languages": languages}
    if payload.area_name:
        from .forms import resolve_area

        try:
            fields["latitude"], fields["longitude"] = resolve_area(payload.area_name)
        except ValueError as exc:
            raise HttpError(400, f"area_name: {exc}") from None
    try:
        client = services.create_client(
            actor=request.user,
            case_reference=payload.case_reference,
            preferred_name=payload.preferred_name,
            fellowships=fellowships,
            request=request,
            **fields,
        )
    except PermissionDenied as exc:
        record_event(
            actor=request.user,
            action="denied",
            request=request,
            detail={"path": request.path[:200], "method": "POST", "reason": "cannot create"},
        )
        raise HttpError(403, str(exc)) from None
    except ValidationError as exc:
        raise _error(exc) from None
    return Status(201, {"id": client.pk})


@router.post(
    "/clients/{int:pk}/attendance",
    response={
        201: CreatedOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    auth=WRITE,
    summary="Record a meeting the client went to (as they told you)",
)
def record_attendance(request, pk: int, payload: AttendanceIn):
    _reject_nul(**payload.dict())
    client = _client(request, pk, edit=True)
    meeting = None
    if payload.meeting_id is not None:
        meeting = (
            Meeting.objects.visible_to([client.organisation_id])
            .filter(pk=payload.meeting_id)
            .first()
        )
        if meeting is None:
            raise HttpError(400, "meeting_id: no such meeting in the directory")
    fellowship = None
    if payload.fellowship:
        fellowship = Fellowship.objects.filter(code=payload.fellowship).first()
        if fellowship is None:
            raise HttpError(400, "fellowship: unknown fellowship code")
    if payload.mode not in ("in_person", "online"):
        raise HttpError(400, "mode: in_person or online")
    try:
        attendance = services.record_attendance(
            actor=request.user,
            client=client,
            attended_on=payload.attended_on,
            meeting=meeting,
            fellowship=fellowship,
            mode=payload.mode,
            felt=payload.felt,
            request=request,
        )
    except ValidationError as exc:
        raise _error(exc) from None
    return Status(201, {"id": attendance.pk})
