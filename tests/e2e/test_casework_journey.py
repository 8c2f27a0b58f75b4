"""A whole FAMA journey in a real browser (issue 5), three people on three devices:

1. the keyworker signs in with a password and a TOTP code (computed here from the
   device's key, as an authenticator app would), records the consents and stage 1,
   chooses a meeting from the directory and asks a volunteer to meet the client;
2. the volunteer opens the link from their email on a phone and accepts;
3. the keyworker makes the client's self-report link; the client, on a phone, records
   the meeting they went to and a weekly check-in;
4. the keyworker sees both, marked self-reported, on the journey (timeline) and the
   client on the follow-up list.

axe-core runs on every casework page visited (no serious or critical violations).
UPDATE_SCREENSHOTS=1 saves docs/img/casework-journey.png (the client's page at the end)
and docs/img/casework-self-report.png (the client's phone).
"""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail

from mutualaid.accounts.models import Role, Team
from tests.accounts.helpers import STAFF_PASSWORD, current_totp, make_organisation, make_staff
from tests.casework.helpers import make_client, make_volunteer
from tests.e2e.test_accessibility import AXE_JS, FAILING_IMPACTS, RUN_AXE, describe

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audit_trail_emptied_after")]

CLIENT_NAME = "Robin Journeyman"
CONCERN = "Worried about speaking in a group"


@pytest.fixture
def check_axe(site):
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `make setup` (it installs axe-core from npm)")
    checked = []

    def run(page, label):
        page.add_script_tag(path=str(AXE_JS))
        violations = page.evaluate(RUN_AXE)
        serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not serious, f"axe on {label} ({page.url}):\n{describe(serious)}"
        checked.append(label)

    run.checked = checked
    return run


def sign_in(page, user):
    page.goto("/accounts/login/?next=/casework/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", STAFF_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/"))
    page.fill("#id_token", current_totp(user.totp_device))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/casework/$"))


def test_a_whole_journey_from_conversation_to_self_report(
    site, new_page, check_axe, screenshot, mailoutbox
):
    org = make_organisation("Journey Recovery Service")
    team = Team.objects.create(organisation=org, name="East")
    keyworker = make_staff(Role.KEYWORKER, org, team, username="journey-keyworker")
    keyworker.email = "keyworker@example.org"
    keyworker.save()
    volunteer = make_volunteer(keyworker, name="Sam", email="sam@example.org")
    client = make_client(keyworker, preferred_name=CLIENT_NAME, area_name="Brighton")
    base = f"/casework/clients/{client.pk}"

    # 1. The keyworker, on a desktop.
    staff = new_page("desktop", bypass_csp=True)
    sign_in(staff, keyworker)
    check_axe(staff, "caseload")
    staff.click(f"text={CLIENT_NAME}")
    staff.wait_for_url(re.compile(rf"{base}/$"))
    check_axe(staff, "client page")
    for scope in ("volunteer_introduction", "self_report"):
        staff.click(f"#consent-{scope}-button")
        staff.wait_for_load_state()
        assert "not given" not in staff.locator(f"#consent-{scope}").inner_text()

    staff.goto(f"{base}/assess/")
    check_axe(staff, "stage 1")
    staff.check("input[name=previous_experience][value=none]")
    staff.fill("#id_concerns", CONCERN)
    staff.check("#id_guide_used")
    staff.check("input[name=outcome][value=interested]")
    staff.click("#save-assessment")
    staff.wait_for_load_state()
    # Interested: straight on to choosing a meeting, searched with the client's area.
    staff.wait_for_url(re.compile(rf"{base}/meetings/"))
    staff.wait_for_selector("#meeting-results")
    check_axe(staff, "choose a meeting")
    first = staff.locator("#meeting-results li.meeting").first
    meeting_pk = int(first.get_attribute("id").removeprefix("meeting-"))
    first.locator("button[type=submit]").click()
    staff.wait_for_url(re.compile(rf"{base}/$"))

    staff.goto(f"{base}/introductions/new/?meeting={meeting_pk}&kind=volunteer_meets")
    check_axe(staff, "arrange an introduction")
    assert "Sam" in staff.locator("#ranked-volunteers").inner_text()
    staff.select_option("#id_starts_at", index=0)
    staff.check("input[name=kind][value=volunteer_meets]")
    staff.select_option("#id_volunteer", value=str(volunteer.pk))
    staff.fill("#id_agreed_contact", "Sam meets you at the front door 15 minutes before")
    staff.click("#send-introduction")
    staff.wait_for_url(re.compile(rf"{base}/$"))

    # 2. The volunteer, on a phone, from the link in their email.
    [request_email] = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    assert CLIENT_NAME not in request_email.body  # the first name only
    link = re.search(r"https?://\S+/introductions/[^/\s]+/", request_email.body).group(0)
    volunteer_phone = new_page("phone", bypass_csp=True)
    volunteer_phone.goto(re.sub(r"^https?://[^/]+", "", link))
    assert "Robin" in volunteer_phone.locator("#introduction").inner_text()
    assert "Journeyman" not in volunteer_phone.content()
    check_axe(volunteer_phone, "volunteer's introduction")
    volunteer_phone.click("#accept")
    volunteer_phone.wait_for_load_state()
    assert "yes, you will help" in volunteer_phone.locator("#answer-status").inner_text()
    assert any(m.to == ["keyworker@example.org"] for m in mail.outbox)

    # 3. The keyworker makes the client's link; the client uses it on their phone.
    staff.goto(f"{base}/self-report-link/")
    check_axe(staff, "self-report link")
    staff.click("#make-link")
    url = staff.locator("#self-report-url").inner_text().strip()
    assert "/my-meetings/" in url
    client_phone = new_page("phone", bypass_csp=True)
    client_phone.goto(re.sub(r"^https?://[^/]+", "", url))
    assert CLIENT_NAME not in client_phone.content() and "Robin" not in client_phone.content()
    check_axe(client_phone, "client's self-report page")
    client_phone.check("input[name=a-mode][value=in_person]")
    client_phone.click("#save-attendance")
    client_phone.wait_for_load_state()
    assert "the meeting is recorded" in client_phone.content()
    client_phone.fill("#id_c-meetings_in_person", "1")
    client_phone.check("#id_c-shared")
    client_phone.click("#save-check-in")
    client_phone.wait_for_load_state()
    assert "your check-in is recorded" in client_phone.content()
    screenshot(client_phone, "casework-self-report", full_page=True)

    # 4. The keyworker sees it all on the journey and on the follow-up list.
    staff.goto(f"{base}/")
    timeline = staff.locator("#timeline").inner_text()
    assert timeline.count("self-reported") >= 2, timeline
    for expected in ("Volunteer accepted", "conversation", "3. Follow up"):
        assert expected.lower() in timeline.lower(), f"{expected!r} not in the journey:\n{timeline}"
    check_axe(staff, "client page at the end")
    screenshot(staff, "casework-journey", full_page=True)
    staff.goto("/casework/follow-ups/")
    check_axe(staff, "follow-ups")
    assert client.case_reference in staff.content() or CLIENT_NAME in staff.content()
    assert len(check_axe.checked) == 10


def test_a_manager_answers_subject_access_and_erasure_requests(site, new_page, check_axe):
    from mutualaid.audit.models import AuditEvent
    from mutualaid.casework.models import Client

    org = make_organisation("Requests Recovery Service")
    keyworker = make_staff(Role.KEYWORKER, org)
    manager = make_staff(Role.MANAGER, org, username="requests-manager")
    client = make_client(keyworker, preferred_name=CLIENT_NAME, preferences_note=CONCERN)
    base = f"/casework/clients/{client.pk}"

    page = new_page("desktop", bypass_csp=True)
    sign_in(page, manager)
    page.goto(f"{base}/")
    page.click("#subject-access-link")
    page.wait_for_url(re.compile(rf"{base}/subject-access/$"))
    check_axe(page, "subject access")
    with page.expect_download() as download:
        page.click("#subject-access-json")
    data = json.loads(open(download.value.path()).read())
    assert data["record"]["preferred_name"] == CLIENT_NAME
    assert data["record"]["preferences_and_barriers"] == CONCERN
    assert AuditEvent.objects.filter(action="export", actor=manager).count() == 1

    page.goto(f"{base}/erase/")
    check_axe(page, "erase")
    page.fill("#confirm", "not the reference")
    page.click("#erase-confirm")
    page.wait_for_selector("#erase-error")
    check_axe(page, "erase with an error")
    assert Client.objects.filter(pk=client.pk).exists()
    page.fill("#confirm", client.case_reference)
    page.click("#erase-confirm")
    page.wait_for_url(re.compile(r"/casework/$"))
    assert "record is erased" in page.locator("#messages").inner_text()
    assert not Client.objects.filter(pk=client.pk).exists()
    assert check_axe.checked == ["subject access", "erase", "erase with an error"]
