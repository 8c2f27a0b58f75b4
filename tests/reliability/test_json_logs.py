"""LOG_FORMAT=json: one JSON object a line, with no personal data (docs/reliability.md,
"Logs")."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from mutualaid.ops.jsonlog import JsonFormatter
from tests.reliability.helpers import PROJECT_DIR

PERSONAL = ["Zebedee Quux", "zebedee@example.org", "07700 900123", "BN1 4GU", "s3cr3t-token"]


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_a_failed_request_with_client_data_logs_no_personal_data(json_log):
    request = RequestFactory().post(
        "/casework/clients/7/edit/?area=BN1+4GU&email=zebedee@example.org",
        {"preferred_name": "Zebedee Quux", "contact_phone": "07700 900123"},
        HTTP_AUTHORIZATION="Bearer s3cr3t-token",
    )
    try:
        raise ValueError("could not save Zebedee Quux <zebedee@example.org>, 07700 900123")
    except ValueError:
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.get_full_path(),
            exc_info=True, extra={"status_code": 500, "request": request},
        )  # fmt: skip
    logging.getLogger("django.request").warning(
        "client CASE-7 (zebedee@example.org, 07700 900123, BN1 4GU) token=s3cr3t-token"
    )
    lines = json_log.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)  # each line is one JSON object
    assert first["level"] == "ERROR" and first["status"] == 500
    assert first["method"] == "POST" and first["path"] == "/casework/clients/7/edit/"
    assert first["exception"]["type"] == "builtins.ValueError"
    assert any("test_json_logs.py" in frame for frame in first["exception"]["frames"])
    assert second["logger"] == "django.request"
    text = json_log.getvalue()
    for value in PERSONAL:
        assert value not in text, value


def test_names_in_free_text_are_not_logged_by_the_project(json_log):
    """A formatter cannot recognise a name in free text, so the project never puts one
    there: every project logger call is checked here for %-arguments of client fields."""
    import re

    offenders = []
    for path in (PROJECT_DIR / "mutualaid").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"log(ger)?\.(debug|info|warning|error|exception|critical)\(", line):
                if re.search(r"preferred_name|contact_(email|phone)|area_name|\.notes\b", line):
                    offenders.append(f"{path}:{number}")
    assert not offenders


def test_the_setting_switches_the_whole_site_to_json_lines():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').warning('Not Found: %s', '/x?postcode=BN1+4GU')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "mutualaid.settings"}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=PROJECT_DIR
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["message"] == "Not Found: /x?[redacted]"
