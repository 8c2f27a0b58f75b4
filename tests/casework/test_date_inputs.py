"""Date pickers send ISO dates: found by the browser journey (tests/e2e), where stage 1
could not be saved because the date field arrived empty."""

import re

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django.utils.translation import override

from mutualaid.accounts.models import Role
from mutualaid.casework import forms
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import make_client


@pytest.mark.parametrize("language", ["en-gb", "es"])
def test_date_inputs_render_iso_values_in_every_language(language):
    today = timezone.localdate()
    with override(language):
        html = str(forms.AssessmentForm()["held_on"]) + str(forms.Barc10Form()["taken_on"])
    values = re.findall(r'type="date"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*type="date"', html)
    flat = [a or b for a, b in values]
    assert flat and all(v == today.isoformat() for v in flat), html


@pytest.mark.django_db
def test_the_stage_1_page_offers_today_in_iso():
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    client = make_client(keyworker)
    browser = login_verified(HttpClient(), keyworker)
    page = browser.get(f"/casework/clients/{client.pk}/assess/").content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in page
