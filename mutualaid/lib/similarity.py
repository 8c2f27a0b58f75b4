"""Is this the same meeting listed twice? Name similarity tuned for meeting names."""

import difflib
import re
import unicodedata

# Words that say nothing about which meeting it is.
NOISE_WORDS = {
    "the",
    "a",
    "an",
    "of",
    "and",
    "group",
    "meeting",
    "meetings",
    "aa",
    "na",
    "ca",
    "smart",
    "al",
    "anon",
    "online",
    "hybrid",
    "zoom",
    "virtual",
}


def name_tokens(name: str) -> list[str]:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    return [w for w in words if w not in NOISE_WORDS]


def similar_names(a: str, b: str, *, threshold: float = 0.75) -> bool:
    """Similar enough to be one meeting: 'Hope Group' ~ 'HOPE GROUP (Tuesday)' ~ 'Hope'."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return " ".join(ta) == " ".join(tb)
    sa, sb = set(ta), set(tb)
    if sa <= sb or sb <= sa:
        return True
    if len(sa & sb) / len(sa | sb) >= 0.5:
        return True
    return difflib.SequenceMatcher(None, " ".join(ta), " ".join(tb)).ratio() >= threshold


def normalise_url(url: str) -> str:
    url = url.strip().lower()
    url = re.sub(r"^https?://(www\.)?", "", url)
    return url.rstrip("/")
