"""The Spanish catalogue compiled afresh for these tests (into a temporary LOCALE_PATHS), so
they test the committed .po whatever state `make setup` left the .mo in."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from mutualaid.lib import po

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
SPANISH_PO = LOCALE_DIR / "es" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def fresh_catalogue(tmp_path, settings):
    target = tmp_path / "locale" / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(SPANISH_PO, target / "django.po")
    po.compile_file(target / "django.po")
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # clears Django's translation caches
    yield
