"""The one canonical meeting-type vocabulary, and its mapping to Meeting Guide and BMLT.

The mapping is data (data/meeting_types.json, data/languages.json); this module only
indexes it. Meeting Guide language codes (EN, S, FR, ...) become languages, not types.

Labels are English (what feeds, the CLI and the API's `label` use); the data also holds
them in the interface's other languages ("labels", "names"), which `label_for(language)`
and `name_for(language)` return, falling back to English.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class MeetingType:
    key: str
    label: str
    meeting_guide: str | None
    bmlt_world_id: str | None
    bmlt_key: str | None
    category: str
    labels: tuple[tuple[str, str], ...] = ()  # (language code, label), other than English

    def label_for(self, language: str | None) -> str:
        """The label in `language` (a code such as "es" or "es-mx"), else in English."""
        return _translated(self.labels, language, self.label)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    meeting_guide: str | None
    bmlt_key: str | None
    names: tuple[tuple[str, str], ...] = ()  # (language code, name), other than English

    def name_for(self, language: str | None) -> str:
        """The language's name in `language` ("es": "polaco"), else in English."""
        return _translated(self.names, language, self.name)


def _translated(pairs: tuple[tuple[str, str], ...], language: str | None, default: str) -> str:
    if not language:
        return default
    found = dict(pairs)
    code = language.lower()
    return found.get(code) or found.get(code.split("-")[0]) or default


@cache
def meeting_types() -> dict[str, MeetingType]:
    data = json.loads((DATA_DIR / "meeting_types.json").read_text(encoding="utf-8"))
    return {
        row["key"]: MeetingType(**{**row, "labels": tuple(sorted(row.get("labels", {}).items()))})
        for row in data["types"]
    }


@cache
def languages() -> dict[str, Language]:
    data = json.loads((DATA_DIR / "languages.json").read_text(encoding="utf-8"))
    return {
        row["code"]: Language(**{**row, "names": tuple(sorted(row.get("names", {}).items()))})
        for row in data["languages"]
    }


@cache
def _by_meeting_guide() -> dict[str, MeetingType]:
    return {t.meeting_guide.upper(): t for t in meeting_types().values() if t.meeting_guide}


@cache
def _languages_by_meeting_guide() -> dict[str, Language]:
    return {lang.meeting_guide.upper(): lang for lang in languages().values() if lang.meeting_guide}


@cache
def _by_bmlt_world_id() -> dict[str, MeetingType]:
    return {t.bmlt_world_id: t for t in meeting_types().values() if t.bmlt_world_id}


def type_from_meeting_guide(code: str) -> MeetingType | None:
    return _by_meeting_guide().get(code.strip().upper())


def language_from_meeting_guide(code: str) -> Language | None:
    return _languages_by_meeting_guide().get(code.strip().upper())


def type_from_bmlt_world_id(world_id: str) -> MeetingType | None:
    return _by_bmlt_world_id().get(world_id.strip().upper())


def to_meeting_guide_codes(type_keys: list[str], language_codes: list[str] = ()) -> list[str]:
    """Canonical types and languages rendered as Meeting Guide type codes (those that exist)."""
    codes = [meeting_types()[k].meeting_guide for k in type_keys if k in meeting_types()]
    codes += [languages()[c].meeting_guide for c in language_codes if c in languages()]
    return [c for c in codes if c]


def resolve_type(text: str) -> MeetingType:
    """A type given by a person: canonical key ("women") or Meeting Guide code ("W").

    Raises ValueError naming close matches when the type is unknown.
    """
    cleaned = text.strip()
    found = meeting_types().get(cleaned.lower().replace("-", "_")) or type_from_meeting_guide(
        cleaned
    )
    if found:
        return found
    import difflib

    choices = list(meeting_types()) + list(_by_meeting_guide())
    close = difflib.get_close_matches(cleaned, choices, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ValueError(f"unknown meeting type {text!r}{hint}")


def resolve_language(text: str) -> Language:
    cleaned = text.strip()
    lowered = cleaned.lower()
    for lang in languages().values():
        if lowered in (lang.code, lang.name.lower()):
            return lang
    found = language_from_meeting_guide(cleaned)
    if found:
        return found
    raise ValueError(f"unknown language {text!r} (use an ISO 639-1 code such as en, es, pl)")
