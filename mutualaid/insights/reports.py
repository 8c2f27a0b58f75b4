"""What each insights page says: sections that answer one question each, with tables
(every table downloadable as CSV) and charts drawn from those same tables.

Figures over clients the viewer may see in full are exact; figures over anyone else (the
whole service for a keyworker or team lead, every service of an area for a commissioner or
manager) go through mutualaid.lib.suppression first, and the funnel is derived from the
suppressed table only.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from mutualaid.casework.models import BARC10_REMISSION_THRESHOLD, IntroductionKind
from mutualaid.directory.models import Approach
from mutualaid.lib import charts
from mutualaid.lib.suppression import SUPPRESSED, suppress_table

from . import funnel as fn
from . import provision as pv
from . import selectors

Cell = int | float | str | None


@dataclass
class Table:
    id: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    note: str = ""
    chart: charts.Chart | None = None
    # Tables longer than PAGE_ROWS are not written out on the page (the CSV has them all):
    # the page shows `summary` instead, when there is one.
    summary_headers: list[str] | None = None
    summary: list[list[Cell]] | None = None

    @property
    def on_page(self) -> bool:
        return len(self.rows) <= PAGE_ROWS

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow(["" if v is None else v for v in row])
        return out.getvalue()

    def chart_svg(self) -> str:
        """The chart as inline SVG, from the cache when the same figures were drawn before
        (the key covers every number and label drawn, so a change in the data is a miss)."""
        if self.chart is None:
            return ""
        return _cached(self, "svg", lambda: self.chart.svg(element_id=f"chart-{self.id}"))

    def chart_png(self) -> bytes:
        return _cached(self, "png", self.chart.png) if self.chart else b""


CHART_CACHE_SECONDS = 3600
PAGE_ROWS = 60


def _cached(table: Table, kind: str, make):
    from django.core.cache import cache
    from django.utils.translation import get_language

    chart = table.chart
    fingerprint = repr(
        (kind, table.id, get_language(), chart.title, chart.description, chart.headers,
         chart.rows, chart.size, chart.margins)
    )  # fmt: skip
    key = "insights-chart:" + hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
    found = cache.get(key)
    if found is None:
        found = make()
        cache.set(key, found, CHART_CACHE_SECONDS)
    return found


@dataclass
class Section:
    id: str
    title: str
    question: str = ""  # the supervision prompt or self-assessment question it answers
    answer: list[str] = field(default_factory=list)  # sentences, computed
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    title: str
    scope: str
    as_of: date
    suppressed: bool
    sections: list[Section]

    def table(self, table_id: str) -> Table | None:
        for section in self.sections:
            for table in section.tables:
                if table.id == table_id:
                    return table
        return None


def show(value: Cell, unit: str = "") -> str:
    if value is None:
        return "–"
    if value == SUPPRESSED:
        return SUPPRESSED
    if isinstance(value, float):
        text = f"{value:.1f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:g}"
        return f"{text}{unit}"
    return f"{value}{unit}"


# --- funnel tables ------------------------------------------------------------------------


def funnel_table(table_id: str, steps: list[fn.StepFigure], *, title: str) -> Table:
    headers = [
        _("Step"),
        _("Clients"),
        _("Could have reached it"),
        _("Conversion %"),
        _("Not yet due"),
        _("% of offered"),
    ]
    rows = [
        [s.label, s.reached, s.base, s.conversion, s.not_yet_due or None, s.of_offered]
        for s in steps
    ]
    chart = charts.bar_chart(
        [s.label for s in steps],
        {_("Clients"): [s.reached for s in steps]},
        title=title,
        xlabel=_("clients"),
    )
    note = _(
        "Conversion is of those who could have reached the step: the previous step, or for "
        "the 4- and 12-week steps those whose first meeting was at least 4 or 12 weeks ago."
    )
    return Table(table_id, title, headers, rows, note, chart)


def split_table(table_id: str, rows: list[fn.SplitRow], *, title: str, group: str) -> Table:
    headers = [
        group,
        _("Clients"),
        _("Discussed"),
        _("Goal set"),
        _("Introduced"),
        _("First meeting"),
        _("First meeting % of introduced"),
        _("Weekly at 4 weeks % of due"),
        _("Active at 12 weeks % of due"),
        _("Median days, conversation to first meeting"),
    ]
    body = []
    for r in rows:
        body.append(
            [
                r.label,
                r.reached("offered"),
                r.reached("discussed"),
                r.reached("goal"),
                r.reached("introduced"),
                r.reached("first_meeting"),
                r.first_meeting_of_introduced,
                r.step("weekly_4").conversion,
                r.step("active_12").conversion,
                r.median_days,
            ]
        )
    chart = None
    if rows:
        chart = charts.bar_chart(
            [r.label for r in rows],
            {
                _("First meeting, % of introduced"): [r.first_meeting_of_introduced for r in rows],
                _("Weekly at 4 weeks, % of due"): [r.step("weekly_4").conversion for r in rows],
                _("Active at 12 weeks, % of due"): [r.step("active_12").conversion for r in rows],
            },
            title=title,
            xlabel="%",
            unit="%",
            max_value=100,
        )
    return Table(table_id, title, headers, body, "", chart)


def _without_chart(table: Table) -> Table:
    """Small tables read better than a chart (and every chart costs drawing time)."""
    table.chart = None
    return table


def method_labels() -> dict[str, str]:
    return {k: str(v) for k, v in IntroductionKind.choices}


def approach_labels() -> dict[str, str]:
    return {k: str(v) for k, v in Approach.choices}


def _barc_tables(items: list[fn.Journey], prefix: str = "") -> list[Table]:
    points = fn.barc_by_months_since_first(items)
    rows = [[p.label, p.n, p.mean, p.at_or_above] for p in points]
    chart = charts.line_chart(
        [p.label for p in points],
        {_("Mean BARC-10 total"): [p.mean for p in points]},
        title=_("BARC-10 by months since the first one"),
        xlabel=_("months since the first BARC-10"),
        ylabel=_("mean total (10–60)"),
        reference=(BARC10_REMISSION_THRESHOLD, _("47: sustained remission")),
    )
    change = fn.barc_change(items)
    return [
        Table(
            f"{prefix}barc10",
            _("BARC-10 recovery capital over time"),
            [_("Months since first"), _("Clients"), _("Mean total"), _("At or above 47")],
            rows,
            _("Each client counts once per 30-day block, with their latest score in it."),
            chart,
        ),
        Table(
            f"{prefix}barc10-change",
            _("BARC-10: latest against first (clients with two or more)"),
            [_("Change"), _("Clients")],
            [
                [_("Higher"), change["improved"]],
                [_("The same"), change["same"]],
                [_("Lower"), change["lower"]],
            ],
        ),
    ]


# --- service outcomes (managers, team leads) -----------------------------------------------


def outcomes(user, *, since: date | None, until: date | None, as_of: date) -> Report:
    clients = selectors.clients_visible_to(user)
    items = selectors.journeys(clients, since=since, until=until)  # the cohort, in SQL
    steps = fn.funnel(items, as_of)
    median, n = fn.median_days(items)
    sections = []
    answer = [
        _("%(n)s clients were offered mutual aid; %(m)s went to a first meeting (%(p)s%%).")
        % {"n": steps[0].reached, "m": steps[4].reached, "p": show(steps[4].of_offered)},
    ]
    if median is not None:
        answer.append(
            _("Median %(d)s days from the first conversation to the first meeting (%(n)s clients).")
            % {"d": show(median), "n": n}
        )
    sections.append(
        Section(
            "funnel",
            _("From offer to active participation"),
            _("Do you know how effective your methods are? How do you measure success?"),
            answer,
            [funnel_table("funnel", steps, title=_("The FAMA funnel"))],
        )
    )
    introduced = [j for j in items if j.introduced_on is not None]
    by_method = fn.split(introduced, lambda j: j.method, method_labels(), as_of)
    best = max(
        (r for r in by_method if r.reached("introduced") >= 5),
        key=lambda r: r.first_meeting_of_introduced or 0,
        default=None,
    )
    method_answer = []
    if best is not None:
        method_answer.append(
            _("Most first meetings followed “%(m)s” (%(p)s%% of %(n)s introduced).")
            % {
                "m": best.label,
                "p": show(best.first_meeting_of_introduced),
                "n": best.reached("introduced"),
            }
        )
    sections.append(
        Section(
            "methods",
            _("Which way of introducing works?"),
            _("Volunteer goes along, volunteer call or information only: which gets people there?"),
            method_answer,
            [
                split_table(
                    "by-method",
                    by_method,
                    title=_("By introduction method"),
                    group=_("Method of the first introduction"),
                )
            ],
        )
    )
    fellowship_rows = fn.split(
        items, lambda j: j.fellowship, {}, as_of, none_label=_("No meeting chosen yet")
    )
    approach_rows = fn.split(
        items, lambda j: j.approach, approach_labels(), as_of, none_label=_("No meeting chosen yet")
    )
    sections.append(
        Section(
            "fellowships",
            _("By fellowship and approach"),
            _("Do some fellowships or approaches suit your clients better?"),
            [],
            [
                split_table(
                    "by-fellowship",
                    fellowship_rows,
                    title=_("By fellowship"),
                    group=_("Fellowship"),
                ),
                _without_chart(
                    split_table(
                        "by-approach", approach_rows, title=_("By approach"), group=_("Approach")
                    )
                ),
            ],
        )
    )
    from django.contrib.auth import get_user_model

    names = {
        u.pk: (u.get_full_name() or u.get_username())
        for u in get_user_model().objects.filter(
            pk__in={j.keyworker_id for j in items if j.keyworker_id}
        )
    }
    keyworker_rows = fn.split(
        items,
        lambda j: str(j.keyworker_id) if j.keyworker_id else None,
        {str(k): v for k, v in sorted(names.items(), key=lambda kv: kv[1])},
        as_of,
        none_label=_("No keyworker"),
    )
    sections.append(
        Section(
            "keyworkers",
            _("By keyworker"),
            _("Who might need support in supervision?"),
            [],
            [
                split_table(
                    "by-keyworker", keyworker_rows, title=_("By keyworker"), group=_("Keyworker")
                )
            ],
        )
    )
    month_rows = fn.split(items, lambda j: j.offered_on.strftime("%Y-%m"), {}, as_of)
    month_table = split_table(
        "by-month", month_rows, title=_("By month first offered"), group=_("Month")
    )
    if month_rows:
        month_table.chart = charts.line_chart(
            [r.label for r in month_rows],
            {
                _("Offered"): [r.reached("offered") for r in month_rows],
                _("Discussed"): [r.reached("discussed") for r in month_rows],
                _("Introduced"): [r.reached("introduced") for r in month_rows],
                _("First meeting"): [r.reached("first_meeting") for r in month_rows],
            },
            title=_("Clients by month first offered"),
            ylabel=_("clients"),
        )
    sections.append(
        Section(
            "months",
            _("By month"),
            _("Is it getting better?"),
            [_("Recent months have had less time to reach the later steps.")],
            [month_table],
        )
    )
    sections.append(
        Section(
            "barc10",
            _("Recovery capital (BARC-10) over time"),
            _("Do clients' lives improve as they take part?"),
            [],
            _barc_tables(items),
        )
    )
    return Report(
        title=_("Service outcomes"),
        scope=_scope_text(user),
        as_of=as_of,
        suppressed=False,
        sections=sections,
    )


def _scope_text(user) -> str:
    role = selectors.role_of(user)
    return {
        "team_lead": _("your team's clients"),
        "manager": _("every client of your service"),
        "administrator": _("the service of your temporary access (read only)"),
    }.get(role, "")


# --- supervision (one keyworker) ------------------------------------------------------------


def _suppressed_steps(items: list[fn.Journey], as_of: date) -> list[fn.StepFigure]:
    table = suppress_table(fn.category_counts(items, as_of))
    return fn.funnel_from_categories(table.cells, total=table.total)


def own_journeys(own_clients, service: list[fn.Journey]) -> list[fn.Journey]:
    """The journeys of `own_clients` (without BARC-10s): a keyworker's clients are nearly
    always among the service's, so they are taken from there rather than read twice."""
    in_service = {j.client_id: j for j in service}
    own_ids = list(own_clients.values_list("pk", flat=True))
    if all(pk in in_service for pk in own_ids):
        return [in_service[pk] for pk in own_ids]
    return selectors.journeys(own_clients, with_barc=False)


def supervision(viewer, keyworker, *, as_of: date) -> Report:
    own_clients = selectors.clients_visible_to(viewer).filter(keyworker=keyworker)
    service_qs = selectors.service_clients(viewer)
    service = selectors.journeys(service_qs, with_barc=False)
    own = own_journeys(own_clients, service)
    viewer_role = selectors.role_of(viewer)
    suppress_service = viewer_role != "manager"
    own_steps = fn.funnel(own, as_of)
    service_steps = (
        _suppressed_steps(service, as_of) if suppress_service else fn.funnel(service, as_of)
    )
    name = keyworker.get_full_name() or keyworker.get_username()
    rows = []
    for mine, theirs in zip(own_steps, service_steps, strict=True):
        rows.append([mine.label, mine.reached, mine.conversion, theirs.reached, theirs.conversion])
    compare = Table(
        "compare",
        _("%(name)s beside the service") % {"name": name},
        [_("Step"), name, _("Conversion %"), _("Service"), _("Service conversion %")],
        rows,
        _("Service figures are suppressed (1–4 shown as *) unless you manage the service.")
        if suppress_service
        else "",
        charts.bar_chart(
            [s.label for s in own_steps[1:]],
            {
                name: [s.conversion for s in own_steps[1:]],
                _("Service"): [s.conversion for s in service_steps[1:]],
            },
            title=_("Conversion at each step, %"),
            xlabel="%",
            unit="%",
            max_value=100,
        ),
    )
    median, n = fn.median_days(own)
    s_median, s_n = fn.median_days(service)
    answer = [
        _(
            "%(name)s: %(m)s of %(n)s clients went to a first meeting; the service: %(sm)s of %(sn)s."
        )
        % {
            "name": name,
            "m": own_steps[4].reached,
            "n": own_steps[0].reached,
            "sm": show(service_steps[4].reached),
            "sn": show(service_steps[0].reached),
        }
    ]
    if median is not None:
        answer.append(
            _("Median %(d)s days from conversation to first meeting (service: %(s)s).")
            % {
                "d": show(median),
                "s": show(fn.safe_median(s_median, s_n, suppress=suppress_service)),
            }
        )
    sections = [
        Section(
            "effectiveness",
            _("How effective are your methods?"),
            _("Do you know how effective your methods are? How do you measure your success?"),
            answer,
            [compare],
        )
    ]
    # Methods used
    labels = method_labels()
    own_methods = {k: 0 for k in labels}
    own_first = {k: 0 for k in labels}
    for j in own:
        if j.method:
            own_methods[j.method] += 1
            if j.first_meeting_on is not None:
                own_first[j.method] += 1
    service_methods = {k: 0 for k in labels}
    for j in service:
        if j.method:
            service_methods[j.method] += 1
    service_counts = list(service_methods.values())
    if suppress_service:
        service_counts = suppress_table(service_counts).cells
    total_own = sum(own_methods.values())
    method_rows = []
    for (key, label), s_count in zip(labels.items(), service_counts, strict=True):
        method_rows.append(
            [
                label,
                own_methods[key],
                fn.percent(own_methods[key], total_own),
                fn.percent(own_first[key], own_methods[key]),
                s_count,
            ]
        )
    volunteer, live = selectors.volunteer_share(own_clients)
    on_time, done = selectors.follow_up_timeliness(own_clients)
    sections.append(
        Section(
            "methods",
            _("Which methods you use"),
            _(
                "Do you use local recovery champions or peer volunteers to support people "
                "going for the first time? Do you use the FAMA three stages?"
            ),
            [
                _("%(v)s of %(n)s introductions had a volunteer.") % {"v": volunteer, "n": live},
                _("%(t)s of %(n)s follow-ups were done within a week of their date.")
                % {"t": on_time, "n": done},
            ],
            [
                Table(
                    "methods",
                    _("Introductions by method"),
                    [
                        _("Method"),
                        name,
                        _("% of their introductions"),
                        _("First meeting % (theirs)"),
                        _("Service"),
                    ],
                    method_rows,
                    "",
                    charts.bar_chart(
                        [r[0] for r in method_rows],
                        {name: [r[1] for r in method_rows]},
                        title=_("Introductions by method"),
                        xlabel=_("introductions"),
                    ),
                )
            ],
        )
    )
    overdue = selectors.overdue_follow_ups(own_clients, today=as_of)
    sections.append(
        Section(
            "overdue",
            _("Follow-ups overdue"),
            _("Is anyone waiting to hear how their first meeting went?"),
            [_("%(n)s follow-ups are overdue.") % {"n": len(overdue)}],
            [
                Table(
                    "overdue",
                    _("Overdue follow-ups"),
                    [_("Case reference"), _("Follow-up"), _("Due"), _("Days overdue")],
                    [
                        [o.case_reference, o.kind, o.due_on.isoformat(), o.days_overdue]
                        for o in overdue
                    ],
                )
            ],
        )
    )
    return Report(
        title=_("Supervision report: %(name)s") % {"name": name},
        scope=_("the clients of %(name)s") % {"name": name},
        as_of=as_of,
        suppressed=suppress_service,
        sections=sections,
    )


# --- the area (commissioners, managers) ------------------------------------------------------


def area_funnel(area: str, *, as_of: date) -> tuple[Section, list]:
    """Services × categories, suppressed (row totals, column totals, grand total); the
    area funnel is derived from the suppressed column totals only."""
    organisations = list(selectors.organisations_in_area(area))
    items = selectors.journeys(selectors.area_clients(area), with_methods=False)
    by_org: dict[int, list[fn.Journey]] = {o.pk: [] for o in organisations}
    for j in items:
        by_org.setdefault(j.organisation_id, []).append(j)
    counts = [fn.category_counts(by_org[o.pk], as_of) for o in organisations]
    labels = [str(label) for _k, label in fn.CATEGORIES]
    if not counts:
        counts = [[0] * len(labels)]
        names = [_("No services")]
    else:
        names = [o.name for o in organisations]
    table = suppress_table(counts)
    rows = [
        [names[i], *table.rows[i], table.row_totals[i]] for i in range(len(names))
    ]  # fmt: skip
    rows.append([_("All services"), *table.column_totals, table.total])
    categories = Table(
        "area-categories",
        _("Where each client has got to, by service"),
        [_("Service"), *labels, _("Total")],
        rows,
        _(
            "Counts of 1 to 4 are shown as *, and further figures are hidden where they would "
            "let a hidden one be worked out."
        ),  # fmt: skip
    )
    steps = fn.funnel_from_categories(table.column_totals, total=table.total)
    funnel = funnel_table("area-funnel", steps, title=_("The FAMA funnel across the area"))
    funnel.note = _(
        "Worked out from the suppressed table below: a figure that needs a hidden one is hidden."
    )
    change = fn.barc_change(items)
    barc = suppress_table([change["improved"], change["same"], change["lower"]])
    barc_table = Table(
        "area-barc10",
        _("BARC-10: latest against first, across the area"),
        [_("Change"), _("Clients")],
        [
            [_("Higher"), barc.cells[0]],
            [_("The same"), barc.cells[1]],
            [_("Lower"), barc.cells[2]],
            [_("Total"), barc.total],
        ],
    )
    answer = [
        _(
            "%(n)s services in %(area)s; %(c)s clients offered mutual aid, %(m)s went to a first "
            "meeting."
        )  # fmt: skip
        % {
            "n": len(organisations),
            "area": area,
            "c": show(steps[0].reached),
            "m": show(steps[4].reached),
        }  # fmt: skip
    ]
    return (
        Section(
            "area-funnel",
            _("Is facilitation working across the area?"),
            _("How many people offered mutual aid get there and stay?"),
            answer,
            [funnel, categories, barc_table],
        ),
        organisations,
    )


def provision_sections(prov: pv.Provision, *, prefix: str = "") -> list[Section]:
    sections = []
    area = prov.area
    by_fellowship = prov.by_fellowship()
    names = prov.fellowship_names
    fellowship_table = Table(
        f"{prefix}per-week-fellowship",
        _("Meetings per week by fellowship"),
        [_("Fellowship"), _("Code"), _("Meetings per week")],
        [[names.get(code, code), code, v] for code, v in by_fellowship.items()],
        _(
            "In person or hybrid, within %(r)s km of the centre. Fortnightly counts ½, monthly 12/52."
        )
        % {"r": show(area.radius_km)},
        charts.bar_chart(
            list(by_fellowship),
            {_("Meetings per week"): list(by_fellowship.values())},
            title=_("Meetings per week by fellowship"),
            xlabel=_("meetings per week"),
        ),
    )
    by_approach = prov.by_approach()
    approach_table = Table(
        f"{prefix}per-week-approach",
        _("Meetings per week by approach"),
        [_("Approach"), _("Meetings per week")],
        [[k, v] for k, v in by_approach.items()],
        "",
        charts.bar_chart(
            list(by_approach),
            {_("Meetings per week"): list(by_approach.values())},
            title=_("Meetings per week by approach"),
            xlabel=_("meetings per week"),
        ),
    )
    by_type = prov.by_type()
    type_table = Table(
        f"{prefix}per-week-type",
        _("Meetings per week for particular groups and needs"),
        [_("Kind of meeting"), _("Meetings per week")],
        [[k, v] for k, v in by_type],
        "",
        charts.bar_chart(
            [k for k, _v in by_type],
            {_("Meetings per week"): [v for _k, v in by_type]},
            title=_("Meetings per week by kind"),
            xlabel=_("meetings per week"),
        ),
    )
    by_mode = prov.by_mode()
    mode_table = Table(
        f"{prefix}per-week-mode",
        _("Meetings per week by how to attend"),
        [_("Attendance"), _("Meetings per week")],
        [[k, v] for k, v in by_mode] + [[_("Temporarily closed (listings)"), prov.closed]],
        _("Online meetings are counted across the whole directory: anyone can join them."),
        charts.bar_chart(
            [k for k, _v in by_mode],
            {_("Meetings per week"): [v for _k, v in by_mode]},
            title=_("Meetings per week by how to attend"),
            xlabel=_("meetings per week"),
        ),
    )
    sections.append(
        Section(
            f"{prefix}provision",
            _("What is available locally?"),
            _("Are you aware of all the mutual aid groups on offer locally?"),
            [
                _(
                    "%(n)s meetings a week in person within %(r)s km of %(area)s, from %(f)s "
                    "fellowships; %(o)s online meetings a week anyone can join."
                )  # fmt: skip
                % {
                    "n": show(prov.total_per_week),
                    "r": show(area.radius_km),
                    "area": area.name,
                    "f": len(by_fellowship),
                    "o": show(prov.online_per_week),
                }
            ],
            [
                fellowship_table,
                _without_chart(approach_table),
                type_table,
                _without_chart(mode_table),
            ],  # fmt: skip
        )
    )
    heat = prov.heatmap()
    hours = [f"{h:02d}" for h in pv.HOURS]
    heat_table = Table(
        f"{prefix}heatmap",
        _("When meetings start: weekday × hour"),
        [_("Day"), *hours],
        [[pv.DAY_LABELS[d], *heat[d]] for d in range(7)],
        _("Meetings per week starting in each hour (before 06:00 counted at 06)."),
        charts.heatmap(
            pv.DAY_LABELS,
            hours,
            heat,
            title=_("When meetings start: weekday × hour"),
            unit_label=_("meetings per week"),
        ),
    )
    sections.append(
        Section(
            f"{prefix}when",
            _("When do meetings happen?"),
            _("Can people who work, or care for children, find a meeting they can get to?"),
            [],
            [heat_table],
        )
    )
    grid = prov.grid
    if grid is not None:
        median_f, median_a = grid.median_choice()
        histogram = grid.choice_histogram()
        choice_table = Table(
            f"{prefix}choice",
            _("Choice index: different fellowships within reach"),
            [_("Fellowships within reach"), _("Grid cells (1 km)")],
            [[k, v] for k, v in histogram.items()],
            _("Reach: %(r)s km. At the centre: %(f)s fellowships and %(a)s approaches.")
            % {"r": show(prov.reach_km), "f": grid.centre_fellowships, "a": grid.centre_approaches},
            charts.histogram(
                histogram,
                title=_("How many fellowships are within reach"),
                xlabel=_("fellowships within reach"),
                ylabel=_("grid cells"),
            ),
        )
        place_rows = [
            [p.name, p.population, p.nearest_km, p.fellowships, p.approaches,
             ", ".join(sorted(p.lacks)) or "–"]
            for p in grid.places
        ]  # fmt: skip
        places_table = Table(
            f"{prefix}places",
            _("Named places: choice and gaps"),
            [
                _("Place"),
                _("Population"),
                _("Nearest meeting (km)"),
                _("Fellowships within reach"),
                _("Approaches within reach"),
                _("Lacks"),
            ],
            place_rows,
        )
        sections.append(
            Section(
                f"{prefix}choice",
                _("Is there a wide enough choice of meetings locally?"),
                _("Do you think there is a wide enough choice of meetings locally?"),
                [
                    _(
                        "Half of the area has at least %(f)s different fellowships and %(a)s "
                        "approaches within %(r)s km."
                    )  # fmt: skip
                    % {"f": show(median_f), "a": show(median_a), "r": show(prov.reach_km)}
                ],
                [choice_table, places_table],
            )
        )
        counts = prov.counts()
        gap_rows = []
        answer = []
        for need, label in pv.NEEDS:
            lacking = grid.places_lacking(need)
            gap_rows.append(
                [str(label), counts[need], grid.share_lacking(need), ", ".join(lacking) or "–"]
            )
            if grid.share_lacking(need) > 0:
                answer.append(
                    _("%(label)s: missing for %(p)s%% of the area%(places)s.")
                    % {
                        "label": label,
                        "p": show(grid.share_lacking(need)),
                        "places": (" (" + ", ".join(lacking[:6]) + ")") if lacking else "",
                    }
                )
        gaps_table = Table(
            f"{prefix}gaps",
            _("Gaps"),
            [
                _("Need"),
                _("Meetings per week in the area"),
                _("% of the area without"),
                _("Places without"),
            ],
            gap_rows,
            _("Within reach: %(r)s km. Gap distance N: %(n)s km.")
            % {"r": show(prov.reach_km), "n": show(area.gap_km)},
        )
        map_chart = charts.grid_map(
            grid.lats,
            grid.lngs,
            grid.distance_rows(),
            threshold_km=area.gap_km,
            points=[(m.lat, m.lng) for m in prov.local],
            places=[(p.name, p.lat, p.lng) for p in grid.places[:12]],
            title=_("Distance to the nearest meeting"),
            labels=(_("longitude"), _("latitude"), _("km to the nearest meeting")),
            description=_(
                "%(n)s of %(t)s grid cells of 1 km are more than %(d)s km from a meeting."
            )
            % {
                "n": int((grid.lacks["any"] & grid.inside).sum()),
                "t": grid.cells,
                "d": show(area.gap_km),
            },
        )
        distance_table = Table(
            f"{prefix}distance-map",
            _("Distance to the nearest meeting (grid map)"),
            map_chart.headers,
            map_chart.rows,
            _("Cells more than N = %(n)s km from any in-person meeting are hatched.")
            % {"n": show(area.gap_km)},
            map_chart,
        )
        distances = [r[2] for r in map_chart.rows]
        half = area.gap_km / 2
        distance_table.summary_headers = [_("Distance to the nearest meeting"), _("Grid cells")]
        distance_table.summary = [
            [_("Up to %(d)s km") % {"d": show(half)}, sum(1 for v in distances if v <= half)],
            [
                _("%(a)s to %(b)s km") % {"a": show(half), "b": show(area.gap_km)},
                sum(1 for v in distances if half < v <= area.gap_km),
            ],
            [
                _("More than %(d)s km") % {"d": show(area.gap_km)},
                sum(1 for v in distances if v > area.gap_km),
            ],
        ]
        sections.append(
            Section(
                f"{prefix}gaps",
                _("Where are meetings missing?"),
                _("What could be done to improve the range of meetings available locally?"),
                answer or [_("No gaps found for these needs.")],
                [gaps_table, distance_table],
            )
        )
    stale_rows = [
        [m.name, m.fellowship, m.last_checked.date().isoformat() if m.last_checked else _("never")]
        for m in prov.stale
    ]
    sections.append(
        Section(
            f"{prefix}stale",
            _("Listings that may be out of date"),
            _("Can people trust what the directory says?"),
            [
                _("%(n)s of %(t)s local listings have not been checked for %(m)s months.")
                % {"n": len(prov.stale), "t": len(prov.local) + prov.closed, "m": _stale_months()}
            ],
            [
                Table(
                    f"{prefix}stale",
                    _("Stale listings"),
                    [_("Meeting"), _("Fellowship"), _("Last checked")],
                    stale_rows,
                )
            ],
        )
    )
    return sections


def _stale_months() -> int:
    from django.conf import settings

    return settings.STALE_AFTER_MONTHS


def area_report(user, *, as_of: date) -> Report:
    area_name = selectors.area_of(user)
    funnel_section, organisations = area_funnel(area_name, as_of=as_of)
    sections = [funnel_section]
    area = pv.area_named(area_name)
    prov = pv.provision(area)
    sections += provision_sections(prov)
    return Report(
        title=_("Mutual aid in %(area)s") % {"area": area_name},
        scope=_("every service in %(area)s (suppressed) and the directory's local listings")
        % {"area": area_name},
        as_of=as_of,
        suppressed=True,
        sections=sections,
    )
