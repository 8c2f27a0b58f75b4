from datetime import time

import pytest

from tests.factories import make_meeting


@pytest.mark.django_db
def test_home_shows_form_without_results(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Find a meeting" in response.content
    assert b"Starting soon" in response.content


@pytest.mark.django_db
def test_search_near_point_lists_meetings_with_badges_in_words(client):
    make_meeting(name="Westminster Women", types=["women", "wheelchair"], location_name="Church Hall")
    make_meeting(name="Edinburgh", latitude=55.95, longitude=-3.19)
    response = client.get("/", {"near": "51.5074,-0.1278", "radius": "10", "tz": "Europe/London"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Westminster Women" in body
    assert "Edinburgh" not in body
    assert "Women only" in body and "Wheelchair access" in body
    assert "1 meeting" in body


@pytest.mark.django_db
def test_filters_by_day_and_time_of_day(client):
    make_meeting(name="Monday evening", weekday=0, start_time=time(19, 0))
    make_meeting(name="Monday morning", weekday=0, start_time=time(7, 30))
    make_meeting(name="Tuesday evening", weekday=1, start_time=time(19, 0))
    body = client.get(
        "/", {"near": "51.5074,-0.1278", "day": "Monday", "when": "evening"}
    ).content.decode()
    assert "Monday evening" in body
    assert "Monday morning" not in body and "Tuesday evening" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params,message",
    [
        ({"near": "95,0"}, "latitude"),
        ({"near": "51,0", "radius": "-3"}, "radius"),
        ({"near": "51,0", "day": "Funday"}, "unknown day"),
        ({"near": "51,0", "type": "nonsense"}, "unknown meeting type"),
        ({"near": "51,0", "fellowship": "ZZZ"}, "unknown fellowship"),
    ],
)
def test_bad_input_is_a_clear_message_not_an_error_page(client, params, message):
    response = client.get("/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_unknown_viewer_zone_is_ignored(client):
    make_meeting(name="Any")
    response = client.get("/", {"near": "51.5074,-0.1278", "tz": "Mars/Olympus"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_no_results_suggests_what_to_try(client):
    make_meeting(name="Far away", latitude=55.95, longitude=-3.19)
    body = client.get("/", {"near": "51.5074,-0.1278", "radius": "5"}).content.decode()
    assert "No meetings match" in body


@pytest.mark.django_db
def test_schedule_text_keeps_day_names_capitalised(client):
    make_meeting(name="Thursday group", weekday=3)
    body = client.get("/", {"near": "51.5074,-0.1278"}).content.decode()
    assert "Every Thursday, 19:00" in body
