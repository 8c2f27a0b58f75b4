"""The staff API: add a client, read their journey, follow-ups due; clear 400s."""

import pytest
from django.utils import timezone

from mutualaid.accounts.api_auth import issue_token
from mutualaid.accounts.models import Role
from mutualaid.audit.models import AuditEvent
from mutualaid.casework.models import Client
from tests.accounts.helpers import make_organisation, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth():
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    _, token = issue_token(user=keyworker, name="test", scopes=["casework:read", "casework:write"])
    return keyworker, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post(client, path, data, headers):
    return client.post(path, data, content_type="application/json", **headers)


def test_add_a_client_then_read_their_journey(client, auth):
    keyworker, headers = auth
    response = post(
        client,
        "/api/v1/casework/clients",
        {
            "case_reference": "API-1",
            "preferred_name": "Lee Api",
            "area_name": "Brighton",
            "pref_fellowships": ["NA"],
            "pref_types": ["women", "W"],
            "pref_languages": ["English"],
        },
        headers,
    )
    assert response.status_code == 201, response.content
    created = Client.objects.get(pk=response.json()["id"])
    assert created.keyworker == keyworker and created.pref_types == ["women"]
    assert created.pref_languages == ["en"] and created.latitude is not None
    today = timezone.localdate().isoformat()
    response = post(
        client,
        f"/api/v1/casework/clients/{created.pk}/attendance",
        {"attended_on": today, "fellowship": "NA", "mode": "online"},
        headers,
    )
    assert response.status_code == 201
    detail = client.get(f"/api/v1/casework/clients/{created.pk}", **headers).json()
    assert detail["preferred_name"] == "Lee Api" and detail["stage"] == "assess"
    titles = [e["title"] for e in detail["timeline"]]
    assert "Went to a meeting (online): A NA meeting" in titles
    assert AuditEvent.objects.filter(
        action="read", target_type="casework.client", target_id=str(created.pk)
    ).exists()
    assert client.get("/api/v1/casework/follow-ups", **headers).status_code == 200


@pytest.mark.parametrize(
    "change,message",
    [
        ({"pref_fellowships": ["ZZZ"]}, "unknown fellowship"),
        ({"pref_types": ["nonsense"]}, "unknown meeting type"),
        ({"pref_languages": ["xx"]}, "unknown language"),
        ({"area_name": "Zzzqqqville"}, "area_name"),
    ],
)
def test_bad_input_is_a_clear_400(client, auth, change, message):
    _, headers = auth
    data = {"case_reference": "API-2", "preferred_name": "Kim"} | change
    response = post(client, "/api/v1/casework/clients", data, headers)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Client.objects.exists()


def test_duplicate_reference_and_future_attendance_are_400(client, auth):
    _, headers = auth
    data = {"case_reference": "API-3", "preferred_name": "Kim"}
    first = post(client, "/api/v1/casework/clients", data, headers)
    again = post(client, "/api/v1/casework/clients", data, headers)
    assert again.status_code == 400 and "already has this reference" in again.json()["detail"]
    response = post(
        client,
        f"/api/v1/casework/clients/{first.json()['id']}/attendance",
        {"attended_on": "2999-01-01", "fellowship": "AA"},
        headers,
    )
    assert response.status_code == 400 and "future" in response.json()["detail"]
