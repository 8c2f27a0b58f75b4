"""The mutual aid self-assessment, in the spirit of PHE's *Mutual aid self-assessment
tool* for local partnerships: understand what is available locally, find gaps and
barriers. The wording here is ours. Questions about local provision are answered from the
directory; the rest are answered by hand (a commissioner for the area, a manager for their
service) and kept in SelfAssessment, with evidence from casework shown beside them
(suppressed for the area).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualaid.audit.services import record_event
from mutualaid.casework.models import Volunteer
from mutualaid.lib.suppression import suppress_table

from . import funnel as fn
from . import provision as pv
from . import selectors
from .models import Answer, SelfAssessment
from .reports import show

NOTE_MAX = 1000

# (key, question) answered by hand
HAND_QUESTIONS = [
    ("lead", gettext_lazy("Does each service have a named mutual aid lead or champion?")),
    (
        "fama",
        gettext_lazy(
            "Do keyworkers routinely use the three FAMA stages: assess and introduce, "
            "connect, follow up?"
        ),
    ),
    (
        "volunteers",
        gettext_lazy(
            "Are recovery champions or fellowship volunteers available to go with people to "
            "a first meeting?"
        ),
    ),
    (
        "premises",
        gettext_lazy("Do services offer rooms for mutual aid meetings, or host meetings?"),
    ),
    (
        "training",
        gettext_lazy(
            "Have staff been trained in mutual aid and FAMA, and have they been to open meetings?"
        ),
    ),
    (
        "partnership",
        gettext_lazy(
            "Are mutual aid groups and the recovery community invited to local partnership "
            "meetings (respecting their traditions of non-affiliation)?"
        ),
    ),
    (
        "measure",
        gettext_lazy(
            "Do services measure attendance and active participation, not only referrals?"
        ),
    ),
    ("next", gettext_lazy("What will you do next to improve access to mutual aid?")),
]
HAND_KEYS = [k for k, _q in HAND_QUESTIONS]


@dataclass
class Item:
    key: str
    question: str
    evidence: list[str] = field(default_factory=list)
    answer: str = ""  # Answer value, for hand questions
    answer_label: str = ""
    note: str = ""
    by_hand: bool = False


@dataclass
class Assessment:
    area: str
    organisation: object | None
    items: list[Item]
    stored: SelfAssessment | None
    provision: pv.Provision | None
    problem: str = ""

    @property
    def title(self) -> str:
        if self.organisation is not None:
            return _("Mutual aid self-assessment: %(org)s") % {"org": self.organisation}
        return _("Mutual aid self-assessment: %(area)s") % {"area": self.area}


def subject_of(user):
    """(area, organisation or None, may edit) for this user's self-assessment."""
    membership = selectors.membership_of(user)
    area = selectors.area_of(user)
    if membership is None or not area:
        return area, None, False
    if membership.role == "manager":
        return area, membership.organisation, True
    return area, None, membership.role == "commissioner"


def stored_for(area: str, organisation) -> SelfAssessment | None:
    return SelfAssessment.objects.filter(area=area, organisation=organisation).first()


def build(user, *, as_of: date) -> Assessment:
    area_name, organisation, _editable = subject_of(user)
    stored = stored_for(area_name, organisation)
    answers = stored.answers if stored else {}
    labels = dict(Answer.choices)
    items: list[Item] = []
    prov = None
    problem = ""
    try:
        area = pv.area_named(area_name)
        prov = pv.provision(
            area, organisation_ids=[organisation.pk] if organisation is not None else ()
        )
    except pv.AreaUnknown as exc:
        problem = str(exc)
    if prov is not None:
        items += _directory_items(prov)
    clients = (
        selectors.service_clients(user) if organisation is not None
        else selectors.area_clients(area_name)
    )  # fmt: skip
    evidence = _casework_evidence(clients, organisation, area_name, as_of=as_of)
    for key, question in HAND_QUESTIONS:
        given = answers.get(key) or {}
        value = given.get("answer", "")
        items.append(
            Item(
                key=key,
                question=str(question),
                evidence=evidence.get(key, []),
                answer=value,
                answer_label=str(labels.get(value, _("Not answered yet"))),
                note=given.get("note", ""),
                by_hand=True,
            )
        )
    return Assessment(area_name, organisation, items, stored, prov, problem)


def _directory_items(prov: pv.Provision) -> list[Item]:
    area = prov.area
    by_fellowship = prov.by_fellowship()
    by_approach = prov.by_approach()
    counts = prov.counts()
    items = [
        Item(
            "available",
            _("What mutual aid meets locally, and how often?"),
            [
                _("%(n)s meetings a week within %(r)s km, from %(f)s fellowships: %(list)s.")
                % {
                    "n": show(prov.total_per_week),
                    "r": show(area.radius_km),
                    "f": len(by_fellowship),
                    "list": ", ".join(f"{k} {show(v)}" for k, v in list(by_fellowship.items())[:8]),
                },
                _("%(o)s online meetings a week that anyone can join.")
                % {"o": show(prov.online_per_week)},
            ],
        ),
        Item(
            "approaches",
            _("Is there a choice of approach: twelve-step, secular, for families?"),
            [", ".join(f"{k}: {show(v)} a week" for k, v in by_approach.items()) or _("None.")],
        ),
        Item(
            "groups",
            _("Are there meetings for particular groups and needs?"),
            [", ".join(f"{k}: {show(v)}" for k, v in prov.by_type()) + " " + _("a week.")],
        ),
    ]
    heat = prov.heatmap()
    evenings = sum(v for row in heat for h, v in zip(pv.HOURS, row, strict=True) if h >= 17)
    weekend = sum(heat[5]) + sum(heat[6])
    items.append(
        Item(
            "times",
            _("Are there meetings in the evenings and at weekends?"),
            [
                _("%(e)s a week start from 17:00; %(w)s a week at weekends (%(s)s on Sundays).")
                % {
                    "e": show(round(evenings, 2)),
                    "w": show(round(weekend, 2)),
                    "s": show(counts["sunday"]),
                }  # fmt: skip
            ],
        )
    )
    grid = prov.grid
    if grid is not None:
        gaps = []
        for need, label in pv.NEEDS:
            places = grid.places_lacking(need)
            gaps.append(
                _("%(label)s: missing for %(p)s%% of the area%(places)s.")
                % {
                    "label": label,
                    "p": show(grid.share_lacking(need)),
                    "places": (" (" + ", ".join(places[:8]) + ")") if places else "",
                }
            )
        median_f, median_a = grid.median_choice()
        items.append(
            Item(
                "gaps",
                _("Where are the gaps, and is there enough choice?"),
                [
                    _(
                        "Half the area has %(f)s or more fellowships and %(a)s or more approaches "
                        "within %(r)s km."
                    )  # fmt: skip
                    % {"f": show(median_f), "a": show(median_a), "r": show(prov.reach_km)},
                    *gaps,
                ],
            )
        )
    items.append(
        Item(
            "current",
            _("Is the information about local meetings up to date?"),
            [
                _("%(n)s of %(t)s local listings have not been checked for over %(m)s months.")
                % {"n": len(prov.stale), "t": len(prov.local) + prov.closed, "m": _stale_months()}
            ],
        )
    )
    return items


def _stale_months() -> int:
    from django.conf import settings

    return settings.STALE_AFTER_MONTHS


def _casework_evidence(clients, organisation, area: str, *, as_of: date) -> dict[str, list[str]]:
    """Evidence from casework beside the hand-answered questions, suppressed."""
    items = selectors.journeys(clients, with_barc=False, with_methods=False)
    table = suppress_table(fn.category_counts(items, as_of))
    steps = fn.funnel_from_categories(table.cells, total=table.total)
    if organisation is not None:
        volunteers = Volunteer.objects.filter(organisation=organisation, status="active")
    else:
        volunteers = Volunteer.objects.filter(
            organisation__in=selectors.organisations_in_area(area), status="active"
        )
    volunteer_count = suppress_table([volunteers.count()]).cells[0]
    active_steps = steps[6]
    return {
        "fama": [
            _(
                "Recorded: %(d)s of %(o)s clients had a conversation about mutual aid (%(p)s%%); "
                "%(i)s were introduced to a meeting."
            )  # fmt: skip
            % {
                "d": show(steps[1].reached),
                "o": show(steps[0].reached),
                "p": show(steps[1].conversion),
                "i": show(steps[3].reached),
            }  # fmt: skip
        ],
        "volunteers": [
            _("%(n)s active volunteers are recorded.") % {"n": show(volunteer_count)},
        ],
        "measure": [
            _("Recorded: %(a)s clients actively participating at 12 weeks, of %(b)s due.")
            % {"a": show(active_steps.reached), "b": show(active_steps.base)}
        ],
    }


@transaction.atomic
def save_answers(*, actor, area: str, organisation, answers: dict[str, dict], request=None):
    """Store the hand answers (validated by the form) and audit the change (keys only)."""
    stored, _created = SelfAssessment.objects.select_for_update().get_or_create(
        area=area, organisation=organisation
    )
    stored.answers = {k: answers[k] for k in HAND_KEYS if k in answers}
    stored.updated_by = actor
    stored.updated_at = timezone.now()
    stored.save()
    record_event(
        actor=actor,
        action="update",
        target=stored,
        request=request,
        organisation=organisation,
        detail={"view": "insights.self_assessment", "fields": sorted(stored.answers)},
    )
    return stored
