import pytest

from tests.factories import make_meeting


@pytest.mark.django_db
def test_api_search_returns_the_cli_shape(client):
    make_meeting(name="Westminster", types=["women"], latitude=51.4995, longitude=-0.1248)
    response = client.get(
        "/api/v1/meetings",
        {
            "near": "51.5074,-0.1278",
            "radius_km": 5,
            "type": "W",
            "now": "2026-11-28T12:00:00+00:00",
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    row = data["results"][0]
    assert row["name"] == "Westminster"
    assert row["next_start"] == "2026-11-30T19:00:00+00:00"
    assert row["distance_km"] == pytest.approx(0.91, abs=0.02)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params,field",
    [
        ({"near": "x"}, "near"),
        ({"day": "Funday"}, "day"),
        ({"near": "51,0", "radius_km": 0}, "radius_km"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),  # caught by ninja's own type check: the same shape
        ({"start_after": "25:00"}, "start_after"),
        ({"type": "nonsense"}, "type"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"sort": "distance"}, "sort"),
        ({"now": "yesterday"}, "now"),
    ],
)
def test_api_bad_input_is_422_naming_the_field(client, params, field):
    response = client.get("/api/v1/meetings", params)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert error["msg"]


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/meetings" in response.json()["paths"]
