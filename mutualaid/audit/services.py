"""Write to the audit trail and check it. The only way to create an AuditEvent.

    record_event(actor=request.user, action="read", target=client, request=request,
                 detail={"fields": ["notes"]})

`detail` takes ids, counts, flags and field NAMES: never client content (no names, notes,
answers). Strings longer than DETAIL_MAX_STRING are refused to make that hard to get wrong.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from .models import Action, AuditEvent

GENESIS_HASH = "0" * 64
DETAIL_MAX_STRING = 200
# Any constant: serialises writers on PostgreSQL (pg_advisory_xact_lock) for a linear chain.
_PG_LOCK_KEY = 0x6D61_6175_6469_74  # "maaudit"
_SCALARS = (str, int, float, bool, type(None))


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with BEHIND_PROXY the address our one trusted
    proxy appended to X-Forwarded-For (the right-most entry; earlier ones can be forged)."""
    if request is None:
        return None
    meta = getattr(request, "META", {}) or {}
    address = meta.get("REMOTE_ADDR")
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            address = forwarded[-1]
    return _normalise_ip(address)


def _normalise_ip(address: str | None) -> str | None:
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    text = str(ip)
    return clean_ipv6_address(text) if ip.version == 6 else text


def target_key(target) -> tuple[str, str]:
    """(target_type, target_id) for a model instance, "app.model:ID", or a 2-tuple."""
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    if isinstance(target, tuple) and len(target) == 2:
        return str(target[0]).lower(), str(target[1])
    if isinstance(target, str) and ":" in target:
        kind, _, ident = target.partition(":")
        return kind.strip().lower(), ident.strip()
    raise ValueError(f"an audit target is a model instance, 'app.model:ID' or a pair: {target!r}")


def _check_detail(detail: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(detail, dict):
        raise ValueError("audit detail must be a dict")
    for key, value in detail.items():
        if not isinstance(key, str):
            raise ValueError("audit detail keys must be strings")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if not isinstance(item, _SCALARS):
                raise ValueError(f"audit detail {key!r}: only scalars or lists of scalars")
            if isinstance(item, str) and len(item) > DETAIL_MAX_STRING:
                raise ValueError(
                    f"audit detail {key!r}: strings are capped at {DETAIL_MAX_STRING} "
                    "characters (ids and field names only, never client content)"
                )
    # Round-trip so the hash covers exactly what the JSON column will give back.
    return json.loads(json.dumps(detail))


def _format_at(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    organisation_id: int | None,
    ip: str | None,
    detail: dict,
) -> str:
    row = {
        "seq": seq,
        "at": _format_at(at),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "organisation_id": organisation_id,
        "ip": ip,
        "detail": detail,
    }
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, row_json: str) -> str:
    return hashlib.sha256((prev_hash + row_json).encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent) -> str:
    row = canonical_json(
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        organisation_id=event.organisation_id,
        ip=str(event.ip) if event.ip is not None else None,
        detail=event.detail,
    )
    return chain_hash(event.prev_hash, row)


def _actor(actor, actor_label: str | None) -> tuple[int | None, str]:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.pk, actor_label or actor.get_username()
    return None, actor_label or "anonymous"


def _organisation_id(organisation, target, actor) -> int | None:
    if organisation is not None:
        return getattr(organisation, "pk", organisation)
    if target is not None and isinstance(target, models.Model):
        if isinstance(target, _organisation_model()):
            return target.pk
        org_id = getattr(target, "organisation_id", None)
        if org_id is not None:
            return org_id
    if actor is not None and getattr(actor, "is_authenticated", False):
        from mutualaid.accounts.roles import membership_of

        membership = membership_of(actor)
        if membership is not None:
            return membership.organisation_id
    return None


def _organisation_model():
    from mutualaid.accounts.models import Organisation

    return Organisation


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
    # SQLite: transactions here are BEGIN IMMEDIATE (settings), so one writer at a time.


def record_event(
    *,
    actor,
    action: str,
    target=None,
    request=None,
    organisation=None,
    detail: dict | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it (inside the caller's transaction, if any:
    if that rolls back, so does the event)."""
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    target_type, target_id = target_key(target)
    actor_id, label = _actor(actor, actor_label)
    org_id = _organisation_id(organisation, target, actor)
    clean_detail = _check_detail(detail or {})
    ip = client_ip(request)

    for attempt in range(3):
        try:
            with transaction.atomic():
                _lock_chain()
                last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
                seq = (last["seq"] + 1) if last else 1
                prev_hash = last["hash"] if last else GENESIS_HASH
                at = timezone.now()
                row = canonical_json(
                    seq=seq,
                    at=at,
                    actor_id=actor_id,
                    actor_label=label[:200],
                    action=action,
                    target_type=target_type,
                    target_id=target_id,
                    organisation_id=org_id,
                    ip=ip,
                    detail=clean_detail,
                )
                event = AuditEvent(
                    seq=seq,
                    at=at,
                    actor_id=actor_id,
                    actor_label=label[:200],
                    action=action,
                    target_type=target_type,
                    target_id=target_id,
                    organisation_id=org_id,
                    ip=ip,
                    detail=clean_detail,
                    prev_hash=prev_hash,
                    hash=chain_hash(prev_hash, row),
                )
                event.save()
                return event
        except IntegrityError:
            # Another writer took this seq (a backend without our lock): read again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def verify_chain(batch_size: int = 2000) -> tuple[bool, int | None, str]:
    """Walk the whole chain. Returns (ok, first_bad_seq, message)."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return (
                False,
                event.seq,
                f"event {expected_seq} is missing (next present is {event.seq}): rows deleted",
            )
        if event.prev_hash != prev_hash:
            return (
                False,
                event.seq,
                f"event {event.seq} does not follow event {event.seq - 1}: rows deleted or replaced",
            )
        if event_hash(event) != event.hash:
            return False, event.seq, f"event {event.seq} was altered after it was written"
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    if count == 0:
        return True, None, "the audit trail is empty"
    return True, None, f"{count} events, chain intact; head #{count} {prev_hash}"
