"""Who may see what: the one place that answers "can this person see client data?".

Client data (casework records) is visible to keyworkers, team leads and managers of the
client's organisation. Commissioners see suppressed aggregates only; directory editors
see no client data; administrators see client data only while an explicit, expiring
AccessGrant for that organisation exists. Superuser status grants nothing here.
"""

from __future__ import annotations

from django.utils import timezone

from .models import AccessGrant, Membership, Organisation, Role

CLIENT_DATA_ROLES = frozenset({Role.KEYWORKER, Role.TEAM_LEAD, Role.MANAGER})


def membership_of(user) -> Membership | None:
    """The user's membership, or None (anonymous, inactive, or not a member anywhere)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def active_grant(user, organisation: Organisation | int | None = None) -> AccessGrant | None:
    """The administrator's current break-glass grant (for that organisation, if given)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    grants = AccessGrant.objects.active(timezone.now()).filter(user=user)
    if organisation is not None:
        grants = grants.filter(organisation=organisation)
    return grants.order_by("-expires_at").first()


def can_see_client_data(user, organisation: Organisation | int | None = None) -> bool:
    """True when the user's role carries client data (for that organisation, if given),
    or when an administrator holds an active AccessGrant."""
    membership = membership_of(user)
    if membership is None:
        return False
    org_id = getattr(organisation, "pk", organisation)
    if membership.role in CLIENT_DATA_ROLES:
        return org_id is None or membership.organisation_id == org_id
    if membership.role == Role.ADMINISTRATOR:
        return active_grant(user, org_id) is not None
    return False


def client_data_organisation_ids(user) -> set[int]:
    """Organisations whose client data the user may see now (empty set: none)."""
    membership = membership_of(user)
    if membership is None:
        return set()
    if membership.role in CLIENT_DATA_ROLES:
        return {membership.organisation_id}
    if membership.role == Role.ADMINISTRATOR:
        return set(
            AccessGrant.objects.active(timezone.now())
            .filter(user=user)
            .values_list("organisation_id", flat=True)
        )
    return set()


def is_commissioner(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == Role.COMMISSIONER


def is_administrator(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == Role.ADMINISTRATOR
