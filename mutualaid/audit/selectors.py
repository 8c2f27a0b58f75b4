"""Read the audit trail: "who looked at this record?" and accounting of disclosures."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Action, AuditEvent
from .services import target_key

DISCLOSURE_ACTIONS = (Action.READ, Action.EXPORT, Action.DISCLOSE)


def events_for(target) -> QuerySet[AuditEvent]:
    """Every event about one record (model instance, "app.model:ID" or a pair), oldest first."""
    target_type, target_id = target_key(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).order_by("seq")


def disclosures_for(target) -> QuerySet[AuditEvent]:
    """Who read, exported or disclosed the record, when and from where (42 CFR Part 2
    accounting of disclosures; UK GDPR subject access)."""
    return events_for(target).filter(action__in=DISCLOSURE_ACTIONS)


def events_by(user) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(actor_id=getattr(user, "pk", user)).order_by("seq")
