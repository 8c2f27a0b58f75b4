"""The public pages in Spanish: chosen by the browser (Accept-Language) or by the language
switcher (a plain form posting to Django's set_language, CSRF-checked, no JavaScript)."""

import re
from datetime import time

import pytest
from django.http import QueryDict
from django.test import Client
from django.utils import translation

from tests.factories import make_meeting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_catalogue")]

ES = {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9"}


@pytest.fixture
def meeting():
    return make_meeting(
        name="Grupo Esperanza",
        types=["open", "women", "wheelchair"],
        location_name="Salón parroquial",
        weekday=0,
        start_time=time(19, 30),
    )


def _html(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_home_in_spanish(client):
    body = _html(client.get("/", **ES))
    assert '<html lang="es">' in body
    assert "Encuentre una reunión" in body and "Empiezan pronto" in body
    assert "Solo mujeres" in body  # a meeting type, from the vocabulary's data
    assert "martes" in body  # day names
    assert "Find a meeting" not in body and "Starting soon" not in body
    assert "Read this site in English" in body  # the switcher offers the other language
    assert "Ver este sitio en español" in _html(client.get("/"))


def test_results_in_spanish(client, meeting):
    body = _html(client.get("/", {"near": "51.5074,-0.1278", "radius": "10"}, **ES))
    assert "1 reunión" in body
    assert "Cada lunes, 19:30" in body
    assert "Abierta: puede ir cualquier persona" in body
    assert "Alcohólicos Anónimos" in body
    assert "By appointment" not in body and "Listing" not in body


def test_meeting_page_in_spanish(client, meeting):
    body = _html(client.get(meeting.get_absolute_url(), **ES))
    assert "Reunión abierta: todo el mundo es bienvenido" in body
    assert "Añadir a mi calendario" in body and "Cómo llegar" in body
    assert "Cualquier persona que quiera dejar de beber" in body  # the fellowship's audience
    assert "Informar de un problema con este anuncio" in body
    assert "What kind of meeting" not in body


def test_closed_meeting_explained_in_spanish(client):
    m = make_meeting(name="Closed group", types=["closed"], fellowship_code="NA")
    body = _html(client.get(m.get_absolute_url(), **ES))
    assert (
        "Reunión cerrada: para personas que tienen un problema con las drogas, el alcohol" in body
    )


def test_guide_in_spanish_prose_included(client, meeting):
    body = _html(client.get("/guide/", {"who": "me", "about": "alcohol", "place": ""}, **ES))
    assert "¿Qué grupo me puede venir bien?" in body
    assert "Ayuda mutua quiere decir personas con experiencias parecidas" in body
    assert "Alcohólicos Anónimos" in body and "Doce pasos" in body
    assert "Lo que la gente valora" in body
    assert "Mutual aid means" not in body


def test_guide_error_in_spanish(client):
    response = client.get("/guide/", {"who": "nobody"}, **ES)
    assert response.status_code == 400
    assert "respuesta desconocida" in response.content.decode()


def test_print_form_and_list_in_spanish(client, meeting):
    body = _html(client.get("/print/", **ES))
    assert "Imprimir una lista de reuniones" in body
    body = _html(client.get("/print/", {"near": "51.5074,-0.1278", "format": "html"}, **ES))
    assert "Dónde encontrar reuniones de ayuda mutua" in body
    assert "lunes" in body and "Qué significan las etiquetas" in body
    assert 'href="/static/mutualaid/print.css"' in body


def test_printed_pdf_in_spanish(meeting):
    pytest.importorskip("weasyprint")
    from mutualaid.directory.printing import Filters, booklet_pdf, build_booklet

    with translation.override("es"):
        booklet = build_booklet(
            Filters.from_querydict(QueryDict("near=51.5074,-0.1278")),
            meeting_url=lambda m: "http://testserver" + m.get_absolute_url(),
            site_url="http://testserver/",
        )
        text = booklet_pdf(booklet).text
    assert "Dónde encontrar reuniones de ayuda mutua" in text
    assert "lunes" in text and "Página 1 de 1" in text


def test_report_form_and_its_errors_in_spanish(client, meeting):
    url = f"{meeting.get_absolute_url()}report/"
    body = _html(client.get(url, **ES))
    assert "¿Qué está mal?" in body and "Hora o día equivocados" in body
    response = client.post(url, {"kind": "other", "details": ""}, **ES)
    assert "Por favor, díganos qué está mal." in response.content.decode()


def test_english_is_the_default_and_for_english_browsers(client):
    assert "Find a meeting" in _html(client.get("/"))
    assert "Find a meeting" in _html(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert "Find a meeting" in _html(client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR"))


def test_switcher_works_without_javascript_and_checks_csrf(meeting):
    browser = Client(enforce_csrf_checks=True)
    page = _html(browser.get(meeting.get_absolute_url()))
    form = re.search(
        r'<form class="language" method="post" action="([^"]+)">(.*?)</form>', page, re.S
    )
    assert form, "no language switcher"
    action, fields = form.groups()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fields).group(1)
    assert 'name="language" value="es"' in fields
    # Without the CSRF token the switch is refused.
    assert browser.post(action, {"language": "es"}).status_code == 403
    response = browser.post(
        action,
        {"language": "es", "next": meeting.get_absolute_url(), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    response = browser.get(meeting.get_absolute_url())
    assert "Añadir a mi calendario" in _html(response)
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary  # a cache keeps the languages apart
    # And back to English, whatever the browser says.
    token = browser.cookies["csrftoken"].value
    browser.post(action, {"language": "en-gb", "next": "/", "csrfmiddlewaretoken": token})
    assert "Find a meeting" in _html(browser.get("/", **ES))


def test_only_pages_vary_on_the_language_cookie(rf):
    from django.http import HttpResponse, JsonResponse

    from mutualaid.middleware import VaryOnLanguageCookieMiddleware

    for response, varies in [
        (HttpResponse("<p>hola</p>"), True),
        (HttpResponse(b"%PDF", content_type="application/pdf"), True),
        (JsonResponse({}), False),
        (HttpResponse("BEGIN:VCALENDAR", content_type="text/calendar"), False),
    ]:
        out = VaryOnLanguageCookieMiddleware(lambda request, r=response: r)(rf.get("/"))
        assert ("Cookie" in out.get("Vary", "")) is varies, response["Content-Type"]


def test_the_api_speaks_the_service_language_so_cached_searches_are_shared(client, meeting):
    """A Spanish browser's API search must not leave Spanish in the shared search cache."""
    from django.core.cache import cache

    cache.clear()
    params = {"near": "51.5074,-0.1278", "radius_km": "10"}
    spanish = client.get("/api/v1/meetings", params, **ES).json()
    english = client.get("/api/v1/meetings", params).json()
    assert spanish == english
    first = english["results"][0]
    assert first["schedule"] == "Every Monday, 19:30"
    detail = client.get(f"/api/v1/meetings/{meeting.slug}", **ES).json()
    assert "Women only" in detail["type_labels"] and detail["schedule"] == first["schedule"]
    # The pages themselves still follow the visitor's language.
    assert "Cada lunes, 19:30" in _html(client.get(meeting.get_absolute_url(), **ES))
