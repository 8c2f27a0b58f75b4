"""Notes, contact details and check-in answers are encrypted at rest: a known plaintext is
nowhere in the raw database, and reads back intact through the models."""

import pytest
from django.db import connection

from mutualaid.accounts.models import Role
from mutualaid.casework import services
from mutualaid.casework.models import CheckIn, Client, Volunteer
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import make_client, make_volunteer

pytestmark = pytest.mark.django_db

NOTE = "Uneasy about church halls after what happened in 2019"
NAME = "Zebedee Quartermaine"
EMAIL = "zebedee.q@example.org"
VOLUNTEER_PHONE = "07700 900123"


def raw_dump() -> str:
    """Every row of every casework table, as the database stores it."""
    tables = [t for t in connection.introspection.table_names() if t.startswith("casework_")]
    text = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - our own table names
            text.append(repr(cursor.fetchall()))
    return "\n".join(text)


def test_known_plaintexts_are_absent_from_the_raw_database():
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    client = make_client(keyworker, preferred_name=NAME, preferences_note=NOTE, contact_email=EMAIL)
    services.record_assessment(
        actor=keyworker, client=client, previous_experience="unhelpful", outcome="interested",
        concerns=NOTE,
    )  # fmt: skip
    services.record_check_in(
        actor=keyworker, client=client, answers={"meetings_in_person": 3, "sponsor": True}
    )
    make_volunteer(keyworker, phone=VOLUNTEER_PHONE, gender="woman")

    dump = raw_dump()
    for secret in (NOTE, NAME, "Zebedee", EMAIL, VOLUNTEER_PHONE, '"sponsor": true'):
        assert secret not in dump, secret
    assert "gAAAAA" in dump  # Fernet tokens are there instead

    fresh = Client.objects.get(pk=client.pk)
    assert (fresh.preferred_name, fresh.preferences_note, fresh.contact_email) == (
        NAME,
        NOTE,
        EMAIL,
    )
    assert CheckIn.objects.get().answers["sponsor"] is True
    assert Volunteer.objects.get().phone == VOLUNTEER_PHONE


def test_encrypted_fields_cannot_be_searched_by_content():
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError, match="encrypted"):
        list(Client.objects.filter(preferred_name="x"))
