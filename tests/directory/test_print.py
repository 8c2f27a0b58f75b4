"""The printable list: /print/ (PDF and ?format=html), printing.py and `mutualaid print`."""

import os
import re
import shutil
import subprocess
import sys
from datetime import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from mutualaid.directory import printing
from mutualaid.lib import qr
from tests.factories import make_meeting
from tests.lib.test_pdf import matrix_modules, svg_modules

LONDON = "51.5074,-0.1278"
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.fixture
def meetings(db):
    """Twenty meetings near central London across the week, and one far away."""
    made = []
    fellowships = ["AA", "NA", "CA", "SMART", "ALANON"]
    for i in range(18):
        made.append(
            make_meeting(
                name=f"Booklet Meeting {i:02d}",
                fellowship_code=fellowships[i % 5],
                weekday=(6 - i) % 7,  # saved in an order that is not the week's
                start_time=time(7 + (i * 5) % 14, 30),
                latitude=51.5074 + i * 0.001,
                longitude=-0.1278,
                location_name=f"Hall {i}",
                street_address=f"{i} High Street",
                postcode="SW1A 1AA",
                types=[["women"], ["open", "wheelchair"], ["closed"], []][i % 4],
            )
        )
    made.append(
        make_meeting(
            name="Booklet Online Evening",
            fellowship_code="SMART",
            mode="online",
            latitude=None,
            longitude=None,
            weekday=0,
            start_time=time(20, 0),
            conference_url="https://meet.example.org/j/123",
            conference_phone="+44 20 7946 0000",
        )
    )
    made.append(
        make_meeting(name="Booklet By Appointment", weekday=None, start_time=None, latitude=51.5274)
    )
    make_meeting(name="Edinburgh Far Away", latitude=55.95, longitude=-3.19)
    return made


def test_html_preview_groups_by_day_monday_first_then_by_time(client, meetings):
    response = client.get(
        "/print/", {"near": LONDON, "radius": "5", "mode": "any", "format": "html"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    headings = re.findall(r'<h2 class="day">([^<]+)</h2>', body)
    assert headings == [*DAYS, "By appointment"]
    # Each day's meetings sit under its heading, in start-time order.
    sections = re.split(r'<h2 class="day">', body)[1:]
    for section in sections[:7]:
        times = re.findall(r'<span class="time">(\d\d:\d\d)', section)
        assert times == sorted(times) and times
    monday = sections[0]
    assert "Booklet Online Evening" in monday
    assert "https://meet.example.org/j/123" in monday and "+44 20 7946 0000" in monday
    assert "Edinburgh Far Away" not in body
    assert "20 meetings" in body
    # Badges in words, and a legend of the badges used.
    assert "Women only" in body and "Wheelchair access" in body
    legend = body.split("What the labels mean")[1].split("</section>")[0]
    for badge in ("Women only", "Open", "Closed", "Wheelchair access", "Online"):
        assert f"<dt>{badge}</dt>" in legend
    assert "<dt>Hybrid" not in legend  # only the badges used
    assert body.count('<svg viewBox="0 0') == 20


def test_each_qr_code_encodes_the_meeting_page_url(client, meetings):
    booklet = printing.build_booklet(
        printing.Filters(near=LONDON, radius="5", modes=["any"]),
        meeting_url=lambda m: "http://testserver" + m.get_absolute_url(),
    )
    entries = [e for day in booklet.days for e in day.entries]
    assert len(entries) == 20
    for entry in entries:
        assert entry.url == f"http://testserver/meetings/{entry.meeting.slug}/"
        assert svg_modules(entry.qr_svg) == matrix_modules(qr.make(entry.url), qr.BORDER)
    # The web page builds the same URLs from the request.
    body = client.get(
        "/print/", {"near": LONDON, "radius": "5", "mode": "any", "format": "html"}
    ).content
    assert qr.qr_svg(entries[0].url).encode() in body


def test_pdf_has_the_meetings_legend_date_and_page_numbers(client, meetings, tmp_path):
    response = client.get("/print/", {"near": LONDON, "radius": "5", "mode": "any"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('inline; filename="meetings-')
    data = response.content
    assert data.startswith(b"%PDF-")
    # What the PDF shows, from the same rendering (no PDF reader needed).
    booklet = printing.build_booklet(
        printing.Filters(near=LONDON, radius="5", modes=["any"]), meeting_url=lambda m: "http://x/"
    )
    rendered = printing.booklet_pdf(booklet)
    assert rendered.page_count >= 1
    text = " ".join(rendered.text.split())
    produced = timezone.localdate().strftime("%-d %B %Y")
    assert "Where to find mutual aid meetings near 51.5074, -0.1278" in text
    assert f"Produced on {produced}" in text
    assert "20 meetings" in text and "What the labels mean" in text
    assert "Page 1 of" in text
    for m in meetings:
        assert m.name in text
    texts = [text]
    if shutil.which("pdftotext"):  # and, where poppler is installed, as a PDF reader sees it
        (tmp_path / "list.pdf").write_bytes(data)
        texts.append(
            subprocess.run(
                ["pdftotext", "-raw", str(tmp_path / "list.pdf"), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    for seen in texts:
        assert "Booklet Meeting 00" in seen and "Booklet Online Evening" in seen
        assert produced in seen and "What the labels mean" in seen


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="pdftoppm (poppler-utils) or zbarimg (zbar-tools) absent",
)
def test_printed_qr_codes_scan_as_the_meeting_urls(meetings, tmp_path):
    """Rasterise the first page as a printer would and read the codes with a real decoder."""
    booklet = printing.build_booklet(
        printing.Filters(near=LONDON, radius="5", days=["Monday"], modes=["any"]),
        meeting_url=lambda m: "https://meetings.example.org" + m.get_absolute_url(),
    )
    (tmp_path / "list.pdf").write_bytes(printing.booklet_pdf(booklet).data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "list.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    page = next(tmp_path.glob("page*.png"))
    scanned = subprocess.run(
        ["zbarimg", "-q", "--raw", str(page)], capture_output=True, text=True
    ).stdout.split()
    expected = [e.url for day in booklet.days for e in day.entries]
    assert expected and sorted(scanned) == sorted(expected)


def test_more_meetings_than_the_limit_keeps_the_nearest_and_says_so(meetings):
    booklet = printing.build_booklet(
        printing.Filters(near=LONDON, radius="5", modes=["any"]),
        meeting_url=lambda m: "http://x/",
        limit=5,
    )
    assert booklet.truncated and booklet.count == 20 and booklet.shown == 5
    kept = {e.meeting.name for day in booklet.days for e in day.entries}
    assert kept == {f"Booklet Meeting {i:02d}" for i in range(5)}  # the five nearest
    html = printing.booklet_html(booklet)
    assert "This list shows 5 of the 20 meetings that match: the 5 nearest" in html


def test_near_a_place_the_list_is_of_meetings_to_go_to_unless_online_is_asked(meetings):
    def names(**filters):
        booklet = printing.build_booklet(
            printing.Filters(near=LONDON, radius="5", **filters), meeting_url=lambda m: "x"
        )
        return {e.meeting.name for day in booklet.days for e in day.entries}, booklet

    local, booklet = names()
    assert "Booklet Online Evening" not in local and len(local) == 19
    assert "In person (and hybrid)" in booklet.filters_text
    everything, booklet = names(modes=["any"])
    assert everything == local | {"Booklet Online Evening"}
    assert "In person and online" in booklet.filters_text
    online, _ = names(modes=["online"])
    assert online == {"Booklet Online Evening"}
    with pytest.raises(printing.SearchError, match="mode: 'any' already includes"):
        names(modes=["any", "online"])


def test_filters_are_the_home_page_filters(client, meetings):
    body = client.get(
        "/print/",
        {"near": LONDON, "radius": "5", "day": "Monday", "type": "wheelchair", "format": "html"},
    ).content.decode()
    names = set(re.findall(r'class="name">([^<]+)<', body))
    assert names and all(n.startswith("Booklet Meeting") for n in names)
    expected = {m.name for m in meetings if m.weekday == 0 and "wheelchair" in m.types}
    assert names == expected == {"Booklet Meeting 13"}
    summary = body.split('class="filters">')[1].split("</span>")[0]
    assert "Monday" in summary and "Wheelchair access" in summary  # the filters, in words


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params,message",
    [
        ({"near": "95,0"}, "latitude"),
        ({"near": "51,0", "radius": "-3"}, "radius"),
        ({"near": "51,0", "day": "Funday"}, "unknown day"),
        ({"near": "51,0", "type": "nonsense"}, "unknown meeting type"),
        ({"near": "51,0", "fellowship": "ZZZ"}, "unknown fellowship"),
        ({"near": "51,0", "when": "dusk"}, "unknown time of day"),
        ({"near": "51,0", "format": "docx"}, "unknown format"),
        ({"place": "Xyzzyplace"}, "place:"),
    ],
)
def test_bad_parameters_are_a_400_page_with_the_message(client, params, message):
    response = client.get("/print/", params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()


@pytest.mark.django_db
def test_print_without_filters_shows_the_form(client):
    response = client.get("/print/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'action="/print/"' in body and 'name="place"' in body and 'value="html"' in body


@pytest.mark.django_db
def test_header_print_link_carries_the_home_search(client):
    body = client.get("/", {"place": "London", "day": "Monday"}).content.decode()
    assert 'href="/print/?place=London&amp;day=Monday"' in body


def test_command_writes_the_booklet(meetings, tmp_path, settings):
    settings.SITE_URL = "https://meetings.example.org"
    out = tmp_path / "list.pdf"
    call_command("print", near=LONDON, radius_km="5", day=["Monday"], out=str(out))
    assert out.read_bytes().startswith(b"%PDF-")
    html = tmp_path / "list.html"
    call_command("print", near=LONDON, radius_km="5", mode=["any"], out=str(html))
    text = html.read_text()
    assert "Booklet Meeting 00" in text
    assert qr.qr_svg(f"https://meetings.example.org/meetings/{meetings[0].slug}/") in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options,message",
    [
        ({"near": "95,0"}, "latitude"),
        ({"near": "51,0", "fellowship": ["ZZZ"]}, "unknown fellowship"),
        ({"near": "51,0", "mode": ["teleport"]}, "unknown mode"),
    ],
)
def test_command_bad_input_is_exit_2(tmp_path, options, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("print", out=str(tmp_path / "x.pdf"), **options)
    assert error.value.returncode == 2
    assert not (tmp_path / "x.pdf").exists()


def test_command_bad_input_is_one_line_on_stderr(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mutualaid", "print", "--near", "95,0", "--out", "x.pdf"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MUTUALAID_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "CommandError: near: latitude 95.0 is outside -90..90"
    ]
