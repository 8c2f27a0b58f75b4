"""'Which group might suit me?': answers -> options (guide.py) and the /guide/ page."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.http import QueryDict

from mutualaid.directory import guide
from mutualaid.directory.fellowships import FELLOWSHIPS
from tests.factories import make_meeting

SHARED_DIR = Path(__file__).resolve().parents[3] / "shared"


def answers(query: str) -> guide.Answers:
    return guide.parse_answers(QueryDict(query))


def codes(query: str) -> list[str]:
    return [o.code for o in guide.recommend(answers(query)).options if not o.secular_meetings_only]


# ------------------------------------------------------------------ answers -> options


def test_family_and_drugs_gives_the_family_groups_for_drugs():
    found = codes("who=other&about=drugs")
    assert set(found) == {"FA", "NARANON", "SMART-FF"}
    assert found[:2] == ["FA", "NARANON"]


def test_family_groups_follow_what_it_is_about():
    assert codes("who=other&about=alcohol")[:2] == ["ALANON", "ALATEEN"]
    assert set(codes("who=other&about=gambling")) == {"GAMANON", "SMART-FF"}
    assert set(codes("who=other&about=alcohol&about=drugs&about=gambling")) >= {
        "ALANON",
        "ALATEEN",
        "FA",
        "NARANON",
        "GAMANON",
        "SMART-FF",
    }
    # Preferring secular puts SMART Family & Friends first.
    assert codes("who=other&about=drugs&approach=secular")[0] == "SMART-FF"
    # Nothing for the person themselves.
    assert not {"AA", "NA", "SMART"} & set(codes("who=other&about=alcohol&about=drugs"))


def test_secular_and_alcohol_gives_the_secular_groups_then_secular_twelve_step_meetings():
    guidance = guide.recommend(answers("who=me&about=alcohol&approach=secular"))
    fits = [o.code for o in guidance.options if not o.secular_meetings_only]
    assert fits == ["SMART", "LIFERING", "RD"]
    assert all(o.approach == "secular" for o in guidance.options if o.code in fits)
    # Twelve-step groups only as their meetings marked secular, never plain.
    aa = [o for o in guidance.options if o.code == "AA"]
    assert len(aa) == 1 and aa[0].secular_meetings_only
    assert aa[0].search_params["type"] == ["secular"]
    assert "AA" not in codes("who=me&about=alcohol&approach=secular")


def test_women_for_sobriety_when_a_women_only_group_is_wanted():
    guidance = guide.recommend(answers("who=me&about=alcohol&approach=secular&pref=women"))
    by_code = {o.code: o for o in guidance.options}
    assert "WFS" in by_code
    # Every WFS meeting is for women: its search is not narrowed to meetings typed "women".
    assert "type" not in by_code["WFS"].search_params
    assert by_code["SMART"].search_params["type"] == ["women"]


def test_spiritual_and_cocaine_gives_twelve_step_groups_most_specific_first():
    assert codes("who=me&about=drugs&drug=cocaine&approach=spiritual") == ["CA", "NA", "DAA"]
    assert codes("who=me&drug=crystal_meth&approach=spiritual")[0] == "CMA"  # drug implies drugs
    assert codes("who=me&drug=cannabis&approach=spiritual")[0] == "MA"
    assert codes("who=me&drug=opioids&approach=spiritual")[0] == "HA"


def test_gambling_and_other_behaviours():
    assert codes("who=me&about=gambling") == ["GA", "SMART", "RD"]
    assert set(codes("who=me&about=behaviour")) == {"OA", "EDA", "SLAA", "SMART", "RD"}


def test_medication_assisted_treatment_says_what_the_sources_say():
    guidance = guide.recommend(answers("who=me&about=drugs&drug=opioids&medication=medication"))
    found = [o.code for o in guidance.options]
    # Skills-based groups first (seed 003), twelve-step still offered.
    assert found[0] == "SMART"
    assert found.index("SMART") < found.index("NA")
    text = " ".join(p.text for p in guidance.explanation)
    sources = {p.source for p in guidance.explanation}
    assert "may be incompatible with medication-assisted treatment" in text  # seed 003
    assert "does not compromise a person's recovery" in text  # NA itself, seed 000
    assert {"seed 003", "seed 000"} <= sources
    na = next(o for o in guidance.options if o.code == "NA")
    assert any("taken as prescribed" in p.text for p in na.notes)
    assert any("medication-assisted" in p.text for p in na.cons)
    smart = next(o for o in guidance.options if o.code == "SMART")
    assert any("medication-assisted" in p.text for p in smart.notes)


def test_abstinence_and_spiritual_explain_the_twelve_steps():
    guidance = guide.recommend(
        answers("who=me&about=drugs&medication=abstinence&approach=spiritual")
    )
    assert codes("who=me&about=drugs&medication=abstinence&approach=spiritual") == ["NA", "DAA"]
    text = " ".join(p.text for p in guidance.explanation)
    assert "completely free of drugs" in text and "higher power" in text


def test_no_concern_ticked_still_gives_options():
    assert codes("who=me") == ["AA", "NA", "DAA", "SMART", "LIFERING", "RD"]


def test_search_params_carry_place_preferences_and_mode():
    option = guide.recommend(answers("who=me&about=alcohol&pref=lgbtq&pref=online&place=Leeds"))
    params = option.options[0].search_params
    assert params == {
        "fellowship": ["AA"],
        "place": ["Leeds"],
        "type": ["lgbtq"],
        "mode": ["online"],
    }
    query = parse_qs(urlparse(option.options[0].search_url).query)
    assert query == params


@pytest.mark.parametrize(
    "query,message",
    [
        ("who=them", "who: unknown answer"),
        ("who=me&about=wine", "about: unknown answer"),
        ("who=me&approach=religious", "approach: unknown answer"),
        ("who=me&language=Klingon", "language:"),
    ],
)
def test_answers_the_form_never_offers_are_refused(query, message):
    with pytest.raises(guide.GuideError, match=message):
        answers(query)


# ------------------------------------------------------------------ the content is traceable


def all_paragraphs() -> list[guide.Para]:
    paras = [
        *guide.INTRO,
        *guide.FIRST_MEETING,
        guide.FAMILY_OPEN_MEETINGS,
        *guide.COMMON_PROS,
        *guide.COMMON_CONS,
        *guide.TWELVE_STEP_ABOUT,
        *guide.TWELVE_STEP_PROS,
        *guide.TWELVE_STEP_CONS,
        *guide.SPIRITUAL_EXPLAINED,
        *guide.SECULAR_EXPLAINED,
        *guide.UNSURE_EXPLAINED,
        *guide.MEDICATION_EXPLAINED,
        *guide.ABSTINENCE_EXPLAINED,
        *guide.FAMILY_EXPLAINED,
    ]
    for text in guide.TEXTS.values():
        paras += [*text.what, *text.who, *text.pros, *text.cons, *text.medication]
    return paras


def test_every_fellowship_has_guide_text_and_every_paragraph_a_known_source():
    listed = {code for code, *_ in FELLOWSHIPS} - {"OTHER"}
    assert set(guide.TEXTS) == listed
    for para in all_paragraphs():
        assert para.source in guide.SOURCES, para
        assert para.text.strip() and para.source_label


def words(text: str) -> set[str]:
    text = re.sub(r"\b12\b", "twelve", text.lower())  # the sources write "12-step"
    return {w for w in re.findall(r"[a-z]+", text) if len(w) >= 6}


@pytest.mark.skipif(not (SHARED_DIR / "seeds").is_dir(), reason="../shared/seeds absent")
def test_paragraphs_are_taken_from_the_source_they_name():
    """Most long words of each paragraph occur in the document it cites: paraphrase, not
    invention. Directory-only paragraphs repeat the fellowship's own 'audience' line."""
    audiences = {audience for _c, _n, _a, audience, *_ in FELLOWSHIPS}
    for para in all_paragraphs():
        if para.source == "editorial":
            continue
        if para.source == "directory":
            assert any(a in para.text for a in audiences) or "sources do not" in para.text, para
            continue
        source = SHARED_DIR / guide.SOURCES[para.source][1].removeprefix("shared/")
        found = words(source.read_text(errors="replace"))
        mine = words(para.text)
        share = len(mine & found) / len(mine)
        assert share >= 0.6, f"{para.source}: only {share:.0%} of the words in {para.text!r}"


# ------------------------------------------------------------------ the page


@pytest.mark.django_db
def test_guide_form_works_without_javascript(client):
    response = client.get("/guide/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in body
    assert 'method="get" action="/guide/"' in body
    for name in ("who", "about", "drug", "approach", "medication", "pref", "language", "place"):
        assert f'name="{name}"' in body
    assert body.count("<fieldset") >= 5
    assert 'href="/guide/"' in body and 'href="/print/' in body  # the header links


@pytest.mark.django_db
def test_family_answers_list_options_with_sources_and_a_search_that_works(client):
    make_meeting(name="Camden Families Group", fellowship_code="FA", types=["open"])
    make_meeting(name="Camden AA", fellowship_code="AA")
    response = client.get("/guide/", {"who": "other", "about": "drugs", "place": "London"})
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("Families Anonymous", "Nar-Anon", "SMART Recovery Family &amp; Friends"):
        assert name in body
    assert "Alcoholics Anonymous" not in body
    assert 'data-source="seed 001"' in body and "Where this comes from" in body
    # The nearby list names the meeting, and the option's search finds it.
    assert "Camden Families Group" in body
    link = re.search(r'href="(/\?fellowship=FA[^"]*)"', body).group(1).replace("&amp;", "&")
    assert "place=London" in link
    found = client.get(link).content.decode()
    assert "Camden Families Group" in found and "Camden AA" not in found


@pytest.mark.django_db
def test_online_preference_lists_online_meetings(client):
    make_meeting(
        name="Zoom SMART", fellowship_code="SMART", mode="online", latitude=None, longitude=None
    )
    body = client.get(
        "/guide/", {"who": "me", "about": "alcohol", "approach": "secular", "pref": "online"}
    ).content.decode()
    assert "Zoom SMART" in body and "1 online meeting" in body
    assert "mode=online" in body


@pytest.mark.django_db
def test_unknown_place_or_answer_is_a_400_with_the_message(client):
    response = client.get("/guide/", {"who": "me", "about": "alcohol", "place": "Xyzzyplace"})
    assert response.status_code == 400
    assert "place:" in response.content.decode()
    assert "Alcoholics Anonymous" in response.content.decode()  # the options are still shown
    response = client.get("/guide/", {"who": "nobody"})
    assert response.status_code == 400 and "who: unknown answer" in response.content.decode()
