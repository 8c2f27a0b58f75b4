"""schemathesis against /api/v1/openapi.json through Django's WSGI app in-process: for
every operation, generated requests (valid and invalid) get no 5xx, a status code the
schema lists, and a body matching the schema (docs/reliability.md, "API fuzzing").

The casework operations run with a keyworker's read/write token, so they get past
authentication to the code behind it.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mutualaid.accounts.api_auth import issue_token
from mutualaid.accounts.models import Role
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import make_client
from tests.factories import make_meeting

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _load_schema():
    from mutualaid.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


schema = _load_schema()  # pytest-django has set Django up before collection


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Called as a WSGI app, Django closes "old" connections after each request, which in
    a test's transaction means closing it (PostgreSQL); its test client stops that too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token():
    cache.clear()
    make_meeting(name="Hope Group", city="Brighton", latitude=50.82, longitude=-0.14)
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    make_client(keyworker)
    _, plain = issue_token(user=keyworker, name="fuzz", scopes=["casework:read", "casework:write"])
    yield plain
    cache.clear()


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)  # fmt: skip
def test_api_answers_as_its_schema_says(case, token):
    # identity: the in-process WSGI transport hands back gzip bytes undecoded otherwise
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, checks=CHECKS)
