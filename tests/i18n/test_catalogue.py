"""The Spanish catalogue is complete and up to date, and mutualaid.lib.po reads and compiles
it as GNU gettext does."""

import gettext
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command

from mutualaid.lib import po, vocabulary
from tests.i18n.conftest import SPANISH_PO

# Where makemessages must not look (as `make messages`): npm packages, tests, benchmarks.
IGNORE = ["var", "tests", "bench", "build", "*.egg-info"]


def _entries():
    return po.parse(SPANISH_PO.read_text(encoding="utf-8"), name=str(SPANISH_PO))


def _describe(entry) -> str:
    where = " ".join(c[3:] for c in entry.comments if c.startswith("#:"))
    return f"{entry.msgid!r} ({where})"


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = _entries()
    header, messages = entries[0], entries[1:]
    assert header.msgid == "" and not header.fuzzy
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]
    assert "Language: es" in header.msgstr[0]
    assert len(messages) > 300
    untranslated = [_describe(e) for e in messages if not e.translated]
    fuzzy = [_describe(e) for e in messages if e.fuzzy]
    assert not untranslated, "untranslated (make messages, then translate):\n" + "\n".join(
        untranslated
    )
    assert not fuzzy, "fuzzy (check the translation, then drop the flag):\n" + "\n".join(fuzzy)


def test_placeholders_survive_translation():
    import re

    named = re.compile(r"%\((\w+)\)[sdr]|\{(\w*)\}")
    for e in _entries()[1:]:
        if not e.translated:
            continue  # reported by the test above
        sources = [e.msgid] + ([e.msgid_plural] if e.msgid_plural else [])
        wanted = {m.group(0) for s in sources for m in named.finditer(s)}
        for translation in e.msgstr:
            got = {m.group(0) for m in named.finditer(translation)}
            # A singular may leave out the count (e.g. "una reunión"); nothing may be added.
            assert got <= wanted, f"{e.msgid!r}: {translation!r} has {got - wanted}"
            if not e.msgid_plural:
                assert got == wanted, f"{e.msgid!r}: {translation!r} lacks {wanted - got}"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="makemessages needs GNU xgettext")
def test_the_catalogue_has_every_message_in_the_code(tmp_path, monkeypatch, settings):
    """makemessages over the project into a copy of the catalogue: nothing new appears."""
    target = tmp_path / "locale" / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(SPANISH_PO, target / "django.po")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(settings.BASE_DIR.parent)
    call_command("makemessages", locale=["es"], no_wrap=True, ignore_patterns=IGNORE, verbosity=0)
    fresh = po.parse((target / "django.po").read_text(encoding="utf-8"))
    committed = {e.key for e in _entries()}
    missing = [_describe(e) for e in fresh[1:] if e.key not in committed]
    assert not missing, "in the code but not in django.po (run make messages):\n" + "\n".join(
        missing
    )
    stale = [_describe(e) for e in fresh[1:] if e.fuzzy or not e.translated]
    assert not stale, "\n".join(stale)


def test_pure_python_compiler_matches_msgfmt(tmp_path):
    ours = po.compile_file(SPANISH_PO, tmp_path / "ours.mo")
    catalogue = gettext.GNUTranslations(ours.open("rb"))
    assert catalogue.gettext("Find a meeting") == "Encuentre una reunión"
    assert catalogue.ngettext("%(counter)s meeting", "%(counter)s meetings", 2) == (
        "%(counter)s reuniones"
    )
    assert catalogue.pgettext("nth weekday of the month", "last %(day)s of the month") == (
        "último %(day)s del mes"
    )
    if not shutil.which("msgfmt"):
        pytest.skip("GNU msgfmt not installed: compared only with known translations")
    subprocess.run(["msgfmt", "-o", str(tmp_path / "gnu.mo"), str(SPANISH_PO)], check=True)
    gnu = gettext.GNUTranslations((tmp_path / "gnu.mo").open("rb"))
    strip = lambda c: {k: v for k, v in c._catalog.items() if k != ""}  # noqa: E731
    assert strip(catalogue) == strip(gnu)


def test_po_reader_rejects_a_broken_line_by_number():
    with pytest.raises(po.POError, match="<po>:3"):
        po.parse('msgid "a"\nmsgstr "b"\nmsgstr_bad "c"\n')


def test_every_meeting_type_and_language_has_a_spanish_name():
    for t in vocabulary.meeting_types().values():
        assert dict(t.labels).get("es"), t.key
    for lang in vocabulary.languages().values():
        assert dict(lang.names).get("es"), lang.code
    assert vocabulary.meeting_types()["closed"].label_for("es-MX").startswith("Cerrada")
    assert vocabulary.languages()["pl"].name_for("en-gb") == "Polish"


def test_the_interface_languages_are_english_and_spanish():
    assert [code for code, _ in settings.LANGUAGES] == ["en-gb", "es"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
