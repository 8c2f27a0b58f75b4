"""No hard-coded English in the templates: every word a person reads is inside
{% translate %} or {% blocktranslate %} (a heuristic: text between tags, and the
placeholder, title, alt and aria-label attributes, outside those tags and comments).

What may stay as it is is listed in ALLOWED, each with why."""

import re
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
# Words that are the same in every language: names, units, codes, formats.
ALLOWED_WORDS = {"mutualaid", "km", "BARC", "PDF", "JSON", "CSV", "API", "OK"}
# Whole templates that are not interface text (none at present).
ALLOWED_TEMPLATES: set[str] = set()
# Literal text that is code, not prose (e.g. an HTTP header to copy).
ALLOWED_TEXT = ["Authorization: Bearer &lt;token&gt;"]

ATTRIBUTES = re.compile(r'\b(?:placeholder|title|alt|aria-label)="([^"]*)"')
TAGS = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*")


def untranslated(source: str) -> list[str]:
    """The English left outside the translation tags of one template's source."""
    parts = []
    skipping = None  # the end tag we are waiting for
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if skipping and name == skipping:
                skipping = None
            elif name in ("blocktranslate", "blocktrans"):
                skipping = "end" + name
            elif name == "comment":
                skipping = "endcomment"
        if token.token_type == TokenType.TEXT and not skipping:
            parts.append(token.contents)
        else:
            parts.append("\x00")  # a tag's output: translated, or data
    text = "".join(parts)
    text = re.sub(r"<!--.*?-->|<style\b.*?</style>", " ", text, flags=re.S | re.I)
    # An identifier glued to a variable ("app-{{ label }}" in a class list) is not prose.
    text = re.sub(r"[A-Za-z_-]+-\x00", "\x00", text)
    for allowed in ALLOWED_TEXT:
        text = text.replace(allowed, " ")
    found = []
    for value in ATTRIBUTES.findall(text):
        found += [w for w in WORD.findall(value) if w not in ALLOWED_WORDS]
    prose = ENTITY.sub(" ", TAGS.sub(" ", text))
    found += [w for w in WORD.findall(prose) if w not in ALLOWED_WORDS]
    return found


def _templates():
    for pattern in ("**/templates/**/*.html", "**/templates/**/*.txt"):
        yield from sorted(ROOT.glob(pattern))


def test_no_english_outside_translation_tags():
    problems = []
    templates = list(_templates())
    assert len(templates) > 50
    for path in templates:
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED_TEMPLATES or relative.endswith(tuple(ALLOWED_TEMPLATES)):
            continue
        words = untranslated(path.read_text(encoding="utf-8"))
        if words:
            problems.append(f"{relative}: {' '.join(dict.fromkeys(words))}")
    assert not problems, "text outside {% translate %}:\n" + "\n".join(problems)


def test_the_heuristic_sees_english_and_ignores_translated_text():
    assert untranslated("<p>Find a meeting</p>") == ["Find", "a", "meeting"]
    assert untranslated('<input placeholder="e.g. Brighton">') == ["e", "g", "Brighton"]
    assert untranslated("{% translate 'Find a meeting' %}<p>{{ name }}</p>") == []
    assert untranslated("{% blocktranslate %}Hello {{ n }}{% endblocktranslate %}") == []
    assert untranslated("{% comment %}Not shown{% endcomment %}<b>12 km</b>") == []
    assert untranslated('<a href="/x" class="button primary">') == []
    assert untranslated("{% block c %}app-{{ a }} model-{{ m }}{% endblock %}") == []
