""" "Which group might suit me?": a person's answers -> the options that fit, explained, each
with a search for its meetings.

Everything the guide says is data in this module, not in the template, and every paragraph
names its source (SOURCES): one of the seed documents in shared/seeds, the domain notes in
shared/domain, or, for fellowships the seeds never describe, the directory's own list of
fellowships (fellowships.py), in which case the guide says no more than who the group is for.
A few plain sentences of the site's own (how to use the results) are marked "editorial".

`recommend(answers)` is pure (no database); `nearby_meetings` runs the ordinary search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils.text import format_lazy
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from mutualaid.lib import vocabulary

from .fellowships import FELLOWSHIPS
from .search import DEFAULT_RADIUS_KM, SearchError

# Where each paragraph comes from: (title shown on the page, the file it is taken from).
SOURCES = {
    "seed 000": (
        _("'Mutual aid' (NTA, 2010), with an interview with Narcotics Anonymous"),
        "shared/seeds/000_5178e25513fb5282.txt",
    ),
    "seed 001": (
        _(
            "Public Health England, 'Improving mutual aid engagement: a professional development "
            "resource'"
        ),
        "shared/seeds/001_7e219a519c92f92b.txt",
    ),
    "seed 002": (
        _("A leaflet on mutual aid quoting PHE's 'Facilitating access to mutual aid'"),
        "shared/seeds/002_79005cc78756544c.txt",
    ),
    "seed 003": (
        _("'Mutual aid and self-help programmes': who it suits, advantages and disadvantages"),
        "shared/seeds/003_69c549c389e6610c.txt",
    ),
    "seed 004": (
        _("'What are mutual aid recovery groups?' (a UK article)"),
        "shared/seeds/004_de4dc713353d42ec.txt",
    ),
    "domain fama": (
        _("Public Health England, 'Facilitating access to mutual aid' (FAMA) and NICE guidance"),
        "shared/domain/fama-and-evidence.md",
    ),
    "directory": (
        _(
            "This directory's list of fellowships: who each one is for (our other sources do not "
            "describe this fellowship)"
        ),
        "mutualaid/directory/fellowships.py",
    ),
    "editorial": (_("This site's own wording: how to use these results"), ""),
}

# How a source is named on the page, beside each paragraph.
SOURCE_LABELS = {
    "seed 000": _("NTA, Mutual aid (2010)"),
    "seed 001": _("PHE, Improving mutual aid engagement"),
    "seed 002": _("Mutual aid leaflet, quoting PHE"),
    "seed 003": _("Mutual aid and self-help programmes"),
    "seed 004": _("What are mutual aid recovery groups?"),
    "domain fama": _("PHE, Facilitating access to mutual aid"),
    "directory": _("this directory's list of fellowships"),
    "editorial": _("this site"),
}


@dataclass(frozen=True)
class Para:
    message: str  # marked for translation (gettext_lazy): `text` is it in today's language
    source: str

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}")

    @property
    def text(self) -> str:
        return str(self.message)

    @property
    def source_label(self) -> str:
        return str(SOURCE_LABELS[self.source])


P = Para

# ------------------------------------------------------------------ the questions

WHO = {"me": _("For me"), "other": _("For someone I care about (family member, partner or friend)")}
CONCERNS = {
    "alcohol": _("Alcohol"),
    "drugs": _("Drugs"),
    "gambling": _("Gambling"),
    "behaviour": _("Another behaviour (eating, sex or love, shopping, self-harm, ...)"),
}
DRUGS = {
    "cocaine": _("Cocaine or crack"),
    "crystal_meth": _("Crystal meth"),
    "cannabis": _("Cannabis"),
    "opioids": _("Heroin or other opioids"),
    "other": _("Other drugs, or several"),
}
APPROACHES = {
    "spiritual": _(
        "Spiritual: a twelve-step programme with a 'higher power' of your understanding"
    ),
    "secular": _("Secular: practical tools and skills, no higher power"),
    "unsure": _("Not sure, or either"),
}
MEDICATION = {
    "abstinence": _("Stopping completely, with no drugs or alcohol at all"),
    "medication": _("I take, or may take, prescribed medication (e.g. methadone or buprenorphine)"),
    "unsure": _("Not sure yet"),
}
PREFERENCES = {
    "women": _("A women-only group"),
    "lgbtq": _("An LGBTQ+ group"),
    "online": _("Online meetings"),
}


class GuideError(ValueError):
    """An answer the form never offers; the message says which."""


@dataclass(frozen=True)
class Answers:
    who: str = "me"
    concerns: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    approach: str = "unsure"
    medication: str = "unsure"
    women: bool = False
    lgbtq: bool = False
    online: bool = False
    language: str = ""
    place: str = ""

    @property
    def for_family(self) -> bool:
        return self.who == "other"

    @property
    def language_name(self) -> str:
        if not self.language:
            return ""
        return vocabulary.languages()[self.language].name_for(get_language())


def parse_answers(params: Mapping) -> Answers:
    """Answers from the form's GET parameters (a QueryDict or a dict of lists)."""

    def many(name):
        values = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
        return [v for v in ([values] if isinstance(values, str) else values) if v]

    def one(name, choices, default):
        value = (params.get(name) or "").strip() or default
        if value not in choices:
            raise GuideError(
                gettext("%(name)s: unknown answer %(value)r (use %(choices)s)")
                % {"name": name, "value": value, "choices": ", ".join(choices)}
            )
        return value

    def checked(name, choices):
        values = many(name)
        for value in values:
            if value not in choices:
                raise GuideError(
                    gettext("%(name)s: unknown answer %(value)r (use %(choices)s)")
                    % {"name": name, "value": value, "choices": ", ".join(choices)}
                )
        return tuple(dict.fromkeys(values))

    drugs = checked("drug", DRUGS)
    concerns = checked("about", CONCERNS)
    if drugs and "drugs" not in concerns:
        concerns = (*concerns, "drugs")
    preferences = checked("pref", PREFERENCES)
    language = (params.get("language") or "").strip()
    if language:
        try:
            language = vocabulary.resolve_language(language).code
        except ValueError as exc:
            raise GuideError(gettext("language: %(error)s") % {"error": exc}) from None
    return Answers(
        who=one("who", WHO, "me"),
        concerns=concerns,
        drugs=drugs,
        approach=one("approach", APPROACHES, "unsure"),
        medication=one("medication", MEDICATION, "unsure"),
        women="women" in preferences,
        lgbtq="lgbtq" in preferences,
        online="online" in preferences,
        language=language,
        place=" ".join((params.get("place") or "").split())[:100],
    )


# ------------------------------------------------------------------ the content

INTRO = [
    P(
        _(
            "Mutual aid means people with similar experiences helping each other to manage or "
            "overcome a problem. Groups are run by their members, their expertise is their own "
            "experience, and no fees are charged: meetings take a voluntary collection for the "
            "room and the tea."
        ),
        "seed 000",
    ),
    P(
        _(
            "These are not either/or choices: many people find it useful to go to several "
            "different meetings, often with different approaches. The best way to understand "
            "them is to go to a few."
        ),
        "seed 001",
    ),
    P(
        _(
            "Going is a start, but taking an active part is what makes the difference: people "
            "who actively participate are more likely to sustain their recovery."
        ),
        "seed 002",
    ),
]

FIRST_MEETING = [
    P(
        _(
            "It can be hard to walk into a first meeting. You can take a worker, a family member "
            "or a friend to an open meeting, and some fellowships will arrange for a member to "
            "meet you beforehand and talk you through it: ask their helpline."
        ),
        "seed 000",
    ),
    P(
        _(
            "If you see a keyworker, they are asked to help you get there: making an initial "
            "appointment, arranging transport or accompanying you to the first meeting, and dealing "
            "with any concerns after it."
        ),
        "domain fama",
    ),
]

# What all groups for people with the problem share, from one guide's list of advantages
# and disadvantages (seed 003); shown once, not with every option.
COMMON_PROS = [
    P(
        _(
            "You meet a new group of people who accept you and understand the problems you are "
            "dealing with."
        ),
        "seed 003",
    ),
    P(_("You are in control: you decide if and when you go."), "seed 003"),
    P(
        _(
            "It can help you build healthy relationships and a feeling of belonging, purpose "
            "and meaning."
        ),
        "seed 003",
    ),
]
COMMON_CONS = [
    P(
        _(
            "Attending can boost abstinence for those who keep going, but research indicates it is "
            "generally only effective if you attend at least once a week, which some find difficult "
            "to sustain."
        ),
        "seed 003",
    ),
    P(
        _(
            "It is groupwork: sharing your experiences openly with other people can be "
            "liberating and empowering, but it can also be difficult."
        ),
        "seed 003",
    ),
]

TWELVE_STEP_ABOUT = [
    P(
        _(
            "The twelve steps are guiding principles for recovery: admitting you cannot control "
            "the addiction, recognising a higher power that can give strength, looking at past "
            "mistakes with a sponsor (an experienced member), making amends, learning to live a "
            "new life, and helping others with the same problem."
        ),
        "seed 001",
    ),
]
TWELVE_STEP_PROS = [
    P(_("An unambiguous emphasis on abstinence."), "seed 003"),
    P(
        _(
            "The spiritual side of some meetings can be comforting, and some people feel it gives "
            "them a focus."
        ),
        "seed 003",
    ),
    P(
        _(
            "It may develop into a long-term commitment, providing wider social support and "
            "friendship networks."
        ),
        "seed 001",
    ),
]
TWELVE_STEP_CONS = [
    P(
        _("If you are not religious you may find the spiritual side of some meetings off-putting."),
        "seed 003",
    ),
    P(
        _(
            "The focus on abstinent recovery may be incompatible with medication-assisted treatment."
        ),
        "seed 003",
    ),
]

SPIRITUAL_EXPLAINED = [
    P(
        _(
            "Our sources differ on how spiritual the twelve steps are. Public Health England's guide "
            "says they do not require any particular religious beliefs, nor spiritual or secular "
            "views: you are free to believe, or not believe, anything you wish."
        ),
        "seed 001",
    ),
    P(
        _(
            "Another guide describes a strong spiritual element: it is necessary to put your faith in "
            "a 'higher power' and to admit that you are powerless over your addiction."
        ),
        "seed 003",
    ),
    P(
        _(
            "Narcotics Anonymous says it is not a religion: members choose their own higher power, "
            "which for some is their group, humanity or nature, and for others the god of their "
            "faith."
        ),
        "seed 000",
    ),
]
SECULAR_EXPLAINED = [
    P(
        _(
            "Skills-based programmes such as SMART Recovery focus on self-responsibility and "
            "empowerment: you learn science-based tools to assess your cravings and behaviour "
            "rationally, and to change them yourself."
        ),
        "seed 003",
    ),
    P(
        _(
            "Some twelve-step groups have modified the steps to give a more secular approach: "
            "meetings marked 'secular' have no religious or spiritual content."
        ),
        "seed 001",
    ),
]
UNSURE_EXPLAINED = [
    P(
        _(
            "There are two main options: twelve-step groups such as Narcotics Anonymous, with a "
            "strong spiritual element, and skills-based programmes such as SMART Recovery, which "
            "focus on self-responsibility and empowerment."
        ),
        "seed 003",
    ),
]

MEDICATION_EXPLAINED = [
    P(
        _(
            "One guide says the twelve-step focus on abstinent recovery may be incompatible with "
            "medication-assisted treatment; if you are looking for a programme that allows you to "
            "engage with medication-assisted treatment at the same time, and to stop using drugs at "
            "your own pace, it says skills-based programmes such as SMART Recovery may be suitable."
        ),
        "seed 003",
    ),
    P(
        _(
            "Narcotics Anonymous itself says that you do not have to be drug-free to go to its "
            "meetings, and that prescribed medication, taken as prescribed by a doctor, does not "
            "compromise a person's recovery."
        ),
        "seed 000",
    ),
    P(_("There is also Methadone Anonymous, but it is a US group."), "seed 000"),
    P(
        _(
            "This guide gives no medical advice: talk to your prescriber or keyworker about your "
            "medication."
        ),
        "editorial",
    ),
]
ABSTINENCE_EXPLAINED = [
    P(
        _(
            "If you are committed to living completely free of drugs, including opioid medication, "
            "and alcohol, a twelve-step group such as Narcotics Anonymous may suit you."
        ),
        "seed 003",
    ),
]

FAMILY_EXPLAINED = [
    P(
        _(
            "Groups also exist to support families, children and friends affected by substance "
            "misuse. For every problem drinker it is estimated that at least five other people are "
            "adversely affected, and the stress often takes its toll on their own health."
        ),
        "seed 001",
    ),
    P(
        _(
            "They support you, not only the person you care about: Al-Anon supports anyone affected "
            "by someone else's drinking, whether or not that person is still drinking, and SMART "
            "Family & Friends asks you to concentrate on yourself and your goals rather than on your "
            "loved one."
        ),
        "seed 001",
    ),
]
FAMILY_OPEN_MEETINGS = P(
    _(
        "Meetings marked 'open' welcome anyone, including family and friends: you can go with the "
        "person you care about, or go to see what happens. Fellowships such as Narcotics "
        "Anonymous do not set out to support family members, but will point you to groups "
        "that do."
    ),
    "seed 000",
)


@dataclass(frozen=True)
class FellowshipText:
    what: tuple[Para, ...] = ()
    who: tuple[Para, ...] = ()
    pros: tuple[Para, ...] = ()
    cons: tuple[Para, ...] = ()
    medication: tuple[Para, ...] = ()  # shown when the person takes prescribed medication


def _audience(code: str, extra: str = "") -> Para:
    """Who a fellowship is for, as the directory's own list says it."""
    return P(format_lazy("{}.{}", _(_FELLOWSHIPS[code]["audience"]), extra), "directory")


def _directory_only(code: str, extra: str = "") -> FellowshipText:
    """A fellowship the seeds do not describe: who it is for, from the directory's list."""
    return FellowshipText(
        who=(_audience(code, extra),),
        what=(
            P(
                _(
                    "Our sources do not describe this group in detail: its own website says "
                    "more about how its meetings work."
                ),
                "directory",
            ),
        ),
    )


_FELLOWSHIPS = {
    code: {"name": name, "approach": approach, "audience": audience, "website": website}
    for code, name, approach, audience, _covers, website in FELLOWSHIPS
}

TEXTS: dict[str, FellowshipText] = {
    "AA": FellowshipText(
        what=(
            P(
                _(
                    "A fellowship of men and women who share their experience, strength and hope "
                    "so that they may solve their common problem and help others to recover. "
                    "Members stay sober one day at a time by going to regular meetings of 60 to "
                    "90 minutes: a chairperson, a speaker, then members share if they wish."
                ),
                "seed 001",
            ),
        ),
        who=(_audience("AA"),),
        pros=(P(_("Meetings are available in most places in the country."), "seed 001"),),
    ),
    "NA": FellowshipText(
        what=(
            P(
                _(
                    "A community of people who support each other to achieve and keep a drug-free "
                    "life: a programme of complete abstinence from all mind- and mood-altering "
                    "drugs, centred on the twelve steps, worked with a sponsor you choose."
                ),
                "seed 000",
            ),
        ),
        who=(
            P(
                _(
                    "The only requirement is a desire to stop using. NA is not concerned with which "
                    "drug you used, and counts alcohol as a drug. You do not have to be drug-free "
                    "to go to a meeting."
                ),
                "seed 000",
            ),
        ),
        pros=(
            P(
                _(
                    "Members say it offers a new social circle, friendship and a place to share, "
                    "and a 'soft landing' for people leaving treatment or prison."
                ),
                "seed 000",
            ),
            P(
                _(
                    "Its helpline can often arrange for a member to meet you before your first "
                    "meeting."
                ),
                "seed 000",
            ),
        ),
        medication=(
            P(
                _(
                    "NA says prescribed medication, taken as prescribed by a doctor, does not "
                    "compromise a person's recovery."
                ),
                "seed 000",
            ),
        ),
    ),
    "CA": FellowshipText(
        what=(
            P(
                _(
                    "A fellowship of addicts and alcoholics who meet to share their experience, "
                    "hope, faith and courage, to stay clean and sober and help others do the same. "
                    "Members are generally encouraged to use the twelve steps. What is heard at "
                    "meetings is confidential."
                ),
                "seed 001",
            ),
        ),
        who=(
            P(
                _(
                    "The sole requirements are the desire to quit, and to turn up. There are no fees."
                ),
                "seed 001",
            ),
        ),
        pros=(
            P(
                _("Members can swap phone numbers, and give and get support between meetings."),
                "seed 001",
            ),
        ),
    ),
    "CMA": _directory_only("CMA"),
    "MA": FellowshipText(
        what=(P(_("One of the twelve-step fellowships."), "seed 000"),),
        who=(_audience("MA"),),
    ),
    "DAA": FellowshipText(
        what=(
            P(
                _("A UK twelve-step fellowship, listed by PHE with its own meeting directory."),
                "seed 001",
            ),
        ),
        who=(_audience("DAA"),),
    ),
    "HA": _directory_only("HA"),
    "GA": _directory_only("GA"),
    "OA": _directory_only("OA"),
    "EDA": _directory_only("EDA"),
    "SLAA": _directory_only("SLAA"),
    "SMART": FellowshipText(
        what=(
            P(
                _(
                    "Self-Management And Recovery Training: a secular, science-based programme. "
                    "It uses motivational interviewing and a form of cognitive behavioural therapy "
                    "in four points: building and keeping motivation, coping with urges, managing "
                    "thoughts, feelings and behaviours, and living a balanced life."
                ),
                "seed 001",
            ),
            P(_("There is no sponsor system: the emphasis is on self-management."), "seed 004"),
        ),
        who=(
            P(
                _(
                    "Addictive behaviour with alcohol, nicotine or drugs, or compulsive behaviour "
                    "such as gambling, sex, eating, shopping and self-harm. It also helps people "
                    "decide whether they have a problem at all."
                ),
                "seed 001",
            ),
        ),
        pros=(
            P(
                _(
                    "No lifetime commitment: you can stay as long as you wish. Many people keep "
                    "going after treatment to help avoid lapses or relapses."
                ),
                "seed 001",
            ),
            P(
                _(
                    "It allows you to engage with medication-assisted treatment at the same time, and "
                    "to stop using at your own pace."
                ),
                "seed 003",
            ),
            P(
                _("Its handbook says it complements the twelve steps, and some people go to both."),
                "seed 001",
            ),
        ),
        medication=(
            P(
                _(
                    "A skills-based programme such as SMART may suit you if you want to engage with "
                    "medication-assisted treatment at the same time."
                ),
                "seed 003",
            ),
        ),
    ),
    "SMART-FF": FellowshipText(
        what=(
            P(
                _(
                    "Meetings for people affected by the addictive behaviour of someone close. "
                    "Rather than focusing on their loved one, participants concentrate on "
                    "themselves and their goals: their habitual responses and whether these help, "
                    "looking after themselves in difficult times, and healthier relationships."
                ),
                "seed 001",
            ),
        ),
        who=(_audience("SMART-FF"),),
        pros=(
            P(
                _(
                    "It combines SMART Recovery with CRAFT (community reinforcement and family "
                    "training), an evidence-based programme that teaches new ways of interacting "
                    "with a person who has an addiction, to raise the chance that they seek "
                    "recovery."
                ),
                "seed 001",
            ),
        ),
    ),
    "LIFERING": _directory_only(
        "LIFERING", format_lazy(" {}", _("Our sources mention it only as a US group."))
    ),
    "RD": _directory_only("RD"),
    "WFS": _directory_only("WFS"),
    "ALANON": FellowshipText(
        what=(
            P(
                _(
                    "Confidential, non-religious, non-political, non-discriminatory and "
                    "non-professional family groups. Groups and literature offer non-judgemental "
                    "support: experience, strength and hope, and ways to recover from the stress "
                    "and unhappiness of a relationship with a problem drinker."
                ),
                "seed 001",
            ),
        ),
        who=(
            P(
                _(
                    "Anyone whose life is, or has been, affected by someone else's drinking, "
                    "whether or not that person is still drinking: children (including adult "
                    "children), friends, partners and parents."
                ),
                "seed 001",
            ),
        ),
        pros=(
            P(
                _("It also helps to create a supportive environment for the drinker's recovery."),
                "seed 001",
            ),
        ),
    ),
    "ALATEEN": FellowshipText(
        what=(P(_("Part of Al-Anon: it helps families of alcoholics."), "seed 000"),),
        who=(_audience("ALATEEN"),),
    ),
    "FA": FellowshipText(
        what=(
            P(
                _(
                    "A worldwide fellowship of family members and friends, with a programme based "
                    "on the twelve steps and twelve traditions first formulated by AA."
                ),
                "seed 001",
            ),
        ),
        who=(
            P(
                _(
                    "Anyone affected by another person's use of mind-altering substances or related "
                    "behaviour problems. Any concerned person is encouraged to go, even if there "
                    "is only a suspicion of a problem."
                ),
                "seed 001",
            ),
        ),
        cons=(
            P(
                _("Coverage is not consistent across the country: there may be no group near you."),
                "seed 001",
            ),
        ),
    ),
    "NARANON": _directory_only("NARANON"),
    "GAMANON": _directory_only("GAMANON"),
    "ACA": _directory_only("ACA"),
}

# Which fellowships answer which concern, most specific first.
FOR_ME = {
    "alcohol": {"twelve_step": ["AA"], "secular": ["SMART", "LIFERING", "WFS", "RD"]},
    "drugs": {"twelve_step": ["NA", "DAA"], "secular": ["SMART", "LIFERING", "WFS", "RD"]},
    "gambling": {"twelve_step": ["GA"], "secular": ["SMART", "RD"]},
    "behaviour": {"twelve_step": ["OA", "EDA", "SLAA"], "secular": ["SMART", "RD"]},
}
FOR_DRUG = {"cocaine": "CA", "crystal_meth": "CMA", "cannabis": "MA", "opioids": "HA"}
FOR_FAMILY = {
    "alcohol": ["ALANON", "ALATEEN", "ACA"],
    "drugs": ["FA", "NARANON"],
    "gambling": ["GAMANON"],
    "behaviour": ["FA"],
}
WOMEN_ONLY = {"WFS"}  # every meeting is for women: shown when asked for, never type-filtered
UNDERSPECIFIED = ("alcohol", "drugs")  # no concern ticked: the groups for these


@dataclass
class Option:
    code: str
    name: str
    approach: str  # twelve_step, secular or family
    text: FellowshipText
    search_params: dict[str, list[str]]
    website: str = ""
    secular_meetings_only: bool = False
    notes: list[Para] = field(default_factory=list)
    nearby: object | None = None  # SearchResults when a place (or online) was given

    @property
    def search_url(self) -> str:
        return "/?" + urlencode(self.search_params, doseq=True)

    @property
    def title(self) -> str:
        if self.secular_meetings_only:
            return gettext("%(name)s: meetings marked secular") % {"name": self.name}
        return self.name

    @property
    def approach_label(self) -> str:
        return {
            "twelve_step": gettext("Twelve-step"),
            "secular": gettext("Secular, skills-based"),
            "family": gettext("For family and friends"),
        }[self.approach]

    @property
    def pros(self) -> list[Para]:
        pros = list(self.text.pros)
        if self.approach == "twelve_step" and not self.secular_meetings_only:
            pros += TWELVE_STEP_PROS
        return pros

    @property
    def cons(self) -> list[Para]:
        cons = list(self.text.cons)
        if self.approach == "twelve_step":
            spiritual, abstinence = TWELVE_STEP_CONS
            cons += [abstinence] if self.secular_meetings_only else [spiritual, abstinence]
        return cons

    @property
    def paragraphs(self) -> list[Para]:
        """Every paragraph shown for this option (for tracing sources)."""
        return [*self.text.what, *self.text.who, *self.pros, *self.cons, *self.notes]


@dataclass
class Guidance:
    answers: Answers
    explanation: list[Para]
    options: list[Option]
    common_pros: list[Para]
    common_cons: list[Para]
    first_meeting: list[Para]
    open_meetings_url: str = ""
    error: str = ""

    @property
    def codes(self) -> list[str]:
        return [o.code for o in self.options]

    @property
    def paragraphs(self) -> list[Para]:
        paras = [*INTRO, *self.explanation, *self.common_pros, *self.common_cons]
        paras += self.first_meeting
        for option in self.options:
            paras += option.paragraphs
        return paras

    @property
    def sources_used(self) -> list[tuple[str, str]]:
        """(label, full reference) of every source a paragraph on the page comes from."""
        used = dict.fromkeys(p.source for p in self.paragraphs)
        return [(str(SOURCE_LABELS[key]), str(SOURCES[key][0])) for key in SOURCES if key in used]


def _search_params(answers: Answers, code: str, *, secular_meetings: bool = False) -> dict:
    params: dict[str, list[str]] = {"fellowship": [code]}
    if answers.place:
        params["place"] = [answers.place]
    types = []
    if answers.women and code not in WOMEN_ONLY:
        types.append("women")
    if answers.lgbtq:
        types.append("lgbtq")
    if secular_meetings:
        types.append("secular")
    if types:
        params["type"] = types
    if answers.online:
        params["mode"] = ["online"]
    return params


def _ordered(answers: Answers) -> list[tuple[str, bool]]:
    """(fellowship code, secular meetings only) in the order to show them."""
    concerns = answers.concerns or UNDERSPECIFIED
    if answers.for_family:
        codes = [code for concern in concerns for code in FOR_FAMILY[concern]]
        codes = [*codes, "SMART-FF"] if answers.approach != "secular" else ["SMART-FF", *codes]
        return [(code, False) for code in dict.fromkeys(codes)]
    twelve, secular = [], []
    for concern in concerns:
        if concern == "drugs":
            twelve += [FOR_DRUG[d] for d in answers.drugs if d in FOR_DRUG]
        twelve += FOR_ME[concern]["twelve_step"]
        secular += FOR_ME[concern]["secular"]
    if not answers.women:
        secular = [code for code in secular if code not in WOMEN_ONLY]
    twelve, secular = list(dict.fromkeys(twelve)), list(dict.fromkeys(secular))
    if answers.approach == "spiritual":
        return [(code, False) for code in twelve]
    if answers.approach == "secular":
        # Twelve-step meetings that are marked secular are a real option too (seed 001).
        return [(code, False) for code in secular] + [(code, True) for code in twelve]
    if answers.medication == "medication":
        return [(code, False) for code in secular + twelve]
    return [(code, False) for code in twelve + secular]


def recommend(answers: Answers) -> Guidance:
    """The options that fit these answers, with what to know about each. No database."""
    explanation: list[Para] = []
    if answers.for_family:
        explanation += FAMILY_EXPLAINED
    else:
        if answers.medication == "medication":
            explanation += MEDICATION_EXPLAINED
        elif answers.medication == "abstinence":
            explanation += ABSTINENCE_EXPLAINED
        if answers.approach != "secular":
            explanation += TWELVE_STEP_ABOUT
        explanation += {
            "spiritual": SPIRITUAL_EXPLAINED,
            "secular": SECULAR_EXPLAINED,
            "unsure": UNSURE_EXPLAINED,
        }[answers.approach]
    options = []
    for code, secular_only in _ordered(answers):
        info = _FELLOWSHIPS[code]
        text = TEXTS[code]
        option = Option(
            code=code,
            name=gettext(info["name"]),
            approach=info["approach"],
            text=text,
            website=info["website"],
            secular_meetings_only=secular_only,
            search_params=_search_params(answers, code, secular_meetings=secular_only),
        )
        if answers.medication == "medication" and not answers.for_family:
            option.notes += list(text.medication)
        if secular_only:
            option.notes.append(SECULAR_EXPLAINED[1])
        options.append(option)
    guidance = Guidance(
        answers=answers,
        explanation=explanation,
        options=options,
        common_pros=[] if answers.for_family else list(COMMON_PROS),
        common_cons=[] if answers.for_family else list(COMMON_CONS),
        first_meeting=list(FIRST_MEETING),
    )
    if answers.for_family:
        guidance.first_meeting = [FAMILY_OPEN_MEETINGS, *FIRST_MEETING[1:]]
        if answers.place:
            guidance.open_meetings_url = "/?" + urlencode({"place": answers.place, "type": "open"})
    return guidance


# ------------------------------------------------------------------ meetings nearby

NEARBY_SHOWN = 3


def add_nearby_meetings(guidance: Guidance, *, organisation_ids=()) -> None:
    """For each option, the next few matching meetings near the place given (or online),
    with how many there are in all. Sets guidance.error if the place is not known."""
    from .places import resolve_place
    from .query_params import build_query
    from .search import search

    answers = guidance.answers
    if not answers.place and not answers.online:
        return
    near = None
    if answers.place:
        try:
            place = resolve_place(answers.place)
        except ValueError as exc:
            guidance.error = gettext("place: %(error)s") % {"error": exc}
            return
        near = f"{place.lat},{place.lng}"
    for option in guidance.options:
        params = option.search_params
        try:
            query, _ = build_query(
                near=near,
                types=params.get("type", []),
                fellowships=params["fellowship"],
                # A place typed and online not asked for: meetings to walk into, not the
                # online meetings that every near search also includes.
                modes=params.get("mode") or (["in_person"] if answers.place else []),
                languages=[answers.language] if answers.language else [],
                upcoming=True,
                limit=NEARBY_SHOWN,
                organisation_ids=organisation_ids,
            )
            option.nearby = search(query)
        except SearchError as exc:  # e.g. a fellowship missing from this database
            guidance.error = str(exc)
            return


def form_choices() -> dict:
    """What the form offers, for the template."""
    return {
        "intro": INTRO,
        "radius_km": f"{DEFAULT_RADIUS_KM:g}",
        "who_choices": list(WHO.items()),
        "concern_choices": list(CONCERNS.items()),
        "drug_choices": list(DRUGS.items()),
        "approach_choices": list(APPROACHES.items()),
        "medication_choices": list(MEDICATION.items()),
        "preference_choices": list(PREFERENCES.items()),
        "languages": sorted(
            (
                (lang.code, lang.name_for(get_language()))
                for lang in vocabulary.languages().values()
            ),
            key=lambda pair: pair[1],
        ),
    }
