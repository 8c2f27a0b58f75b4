"""Consent records (docs/security.md, data map "Consents"): scope, date given, date
withdrawn and by whom, a history that is never overwritten, and what stops at once when
one is withdrawn."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.audit.models import AuditEvent
from mutualaid.casework import selectors, services
from mutualaid.casework.models import Consent, IntroductionStatus
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyworker():
    return make_staff(Role.KEYWORKER, make_organisation())


def test_consent_keeps_scope_dates_and_who_and_its_history(keyworker):
    client = make_client(keyworker)
    first = services.record_consent(actor=keyworker, client=client, scope="reminders_email")
    assert first.scope == "reminders_email" and first.recorded_by == keyworker
    assert abs(first.given_at - timezone.now()) < timedelta(minutes=1)
    # Recording it again while given changes nothing.
    assert services.record_consent(actor=keyworker, client=client, scope="reminders_email") == first
    services.withdraw_consent(actor=keyworker, client=client, scope="reminders_email")
    again = services.record_consent(actor=keyworker, client=client, scope="reminders_email")
    history = list(Consent.objects.filter(client=client).order_by("given_at", "pk"))
    assert [c.pk for c in history] == [first.pk, again.pk]
    assert history[0].withdrawn_at is not None and history[0].withdrawn_by == keyworker
    assert history[1].withdrawn_at is None and client.has_consent("reminders_email")
    actions = AuditEvent.objects.filter(target_type="casework.consent").values_list(
        "action", flat=True
    )
    assert list(actions) == ["create", "create"]
    assert AuditEvent.objects.filter(
        target_type="casework.client", detail__consent_withdrawn="reminders_email"
    ).exists()


def test_an_unknown_scope_is_refused(keyworker):
    client = make_client(keyworker)
    with pytest.raises(ValidationError, match="Unknown consent"):
        services.record_consent(actor=keyworker, client=client, scope="everything")


def test_withdrawing_stops_what_depended_on_it_at_once(keyworker):
    client = make_client(keyworker)
    for scope in ("volunteer_introduction", "self_report"):
        services.record_consent(actor=keyworker, client=client, scope=scope)
    meeting = brighton_meeting()
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting,
        starts_at=meeting.next_start(timezone.now() + timedelta(days=1)),
        kind="volunteer_goes", volunteer=make_volunteer(keyworker), agreed_contact="At the door",
    )  # fmt: skip
    link, token = services.create_self_report_link(actor=keyworker, client=client)
    services.withdraw_consent(actor=keyworker, client=client, scope="volunteer_introduction")
    intro.refresh_from_db()
    assert intro.status == IntroductionStatus.CANCELLED
    with pytest.raises(ValidationError):
        services.arrange_introduction(
            actor=keyworker, client=client, meeting=meeting,
            starts_at=meeting.next_start(timezone.now() + timedelta(days=1)),
            kind="volunteer_goes", volunteer=make_volunteer(keyworker), agreed_contact="x",
        )  # fmt: skip
    services.withdraw_consent(actor=keyworker, client=client, scope="self_report")
    with pytest.raises(selectors.LinkProblem):
        selectors.self_report_link_for_token(token)
