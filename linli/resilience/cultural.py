"""Cultural resilience (文化韧性): residents take part, the stakeholders of deliberation are
diverse, people have ties, cases satisfy.

Participation is attributed to the RESIDENT's own grid unit (their household's path), found
through their login (ResidentAccount) or a volunteer record that names them — not to the
unit that organised the activity or the topic: the question is how many of a building
group's residents take part, wherever they went. A person's events are: an activity
occurrence they checked in to, a deliberation topic they posted an opinion on or supported
(both count once per topic), a survey they answered under their name. Answers to an
anonymous survey cannot be traced to a person (by design, see models_surveys), so they do
not make anyone a participant; the survey score indicator counts them.

Each indicator: a compute over the whole subtree (one grouped query per source) and a
drill-down to the rows behind one unit's value, read through the scope layer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from statistics import fmean

from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.accounts.grid_paths import path_ancestors, within_or_above
from linli.accounts.roles import Permission
from linli.cases.models import Case, CaseEvent
from linli.cases.selectors import cases_visible
from linli.grids.models import GridLevel, GridUnit, Resident, ResidentAccount
from linli.grids.selectors import residents_visible, scope_for
from linli.participation.deliberation.models import Opinion, StakeholderGroup, TopicSupport
from linli.participation.deliberation.selectors import topics_visible
from linli.participation.models import SignUp, SignUpStatus
from linli.participation.surveys.models import (
    LIKERT_MAX,
    LIKERT_MIN,
    Survey,
    SurveyAnswer,
    SurveyFactor,
    SurveyResponse,
    SurveyState,
)
from linli.participation.surveys.selectors import MIN_ANONYMOUS_CELL
from linli.participation.ties.models import IsolatedResident, TieSnapshot
from linli.participation.ties.services import VISIT_TAGS
from linli.resilience.engine import (
    HIGHER,
    LOWER,
    Context,
    DrillDown,
    Indicator,
    Measure,
    Unit,
    level_depth,
    ratio,
    register,
    rollup,
)
from linli.resilience.models import Dimension
from linli.volunteers.models import Volunteer

DRILLDOWN_LIMIT = 200
PARTICIPATION_DAYS = 90
DIVERSITY_DAYS = 180
SATISFACTION_DAYS = 90
# Two distinct events make a repeat participant.
REPEAT_EVENTS = 2
# The seeded template (participation migration 0003) whose copies are "the resilience
# survey"; a copy is recognised by carrying exactly the template's factors, which survives a
# retitled copy and refuses an instrument whose factors were changed.
RESILIENCE_TEMPLATE_TITLE = "社区韧性调查 / Community resilience survey"
# Kinds of event, so an occurrence and a topic with the same id stay two events.
OCCURRENCE, TOPIC, SURVEY = "occurrence", "topic", "survey"


def _between(field: str, context: Context, days: int) -> Q:
    """`field` inside the `days` up to the end of the period: [end − days, end)."""
    return Q(**{f"{field}__gte": context.end - timedelta(days=days), f"{field}__lt": context.end})


# Residents and their logins -----------------------------------------------------------------


def residents_per_unit(context: Context) -> dict[str, float]:
    def count():
        rows = (
            Resident.objects.filter(grid_path__startswith=context.root_path)
            .values("grid_path")
            .annotate(n=Count("id"))
            .values_list("grid_path", "n")
            .order_by()
        )
        return rollup(rows, context)

    return context.memo("cultural:residents", count)


def _logins_in_subtree(root: str):
    """Subqueries of the user ids that stand for a resident of the subtree (a resident's own
    login; a volunteer record naming the resident)."""
    accounts = ResidentAccount.objects.filter(resident__grid_path__startswith=root)
    volunteers = Volunteer.objects.filter(user__isnull=False, resident__grid_path__startswith=root)
    return accounts, volunteers


def _user_residents(context: Context) -> dict[int, tuple[int, str]]:
    """user id → (resident id, resident's grid path) for the residents of the subtree."""

    def load():
        accounts, volunteers = _logins_in_subtree(context.root_path)
        mapping = {
            user_id: (resident_id, path)
            for user_id, resident_id, path in volunteers.values_list(
                "user_id", "resident_id", "resident__grid_path"
            ).order_by()
        }
        # The resident's own login wins over a volunteer record (both name the same person
        # unless the registry is inconsistent; the login is the stronger link).
        mapping.update(
            {
                user_id: (resident_id, path)
                for user_id, resident_id, path in accounts.values_list(
                    "user_id", "resident_id", "resident__grid_path"
                ).order_by()
            }
        )
        return mapping

    return context.memo("cultural:user_residents", load)


def _by_subtree_login(field: str, context: Context) -> Q:
    accounts, volunteers = _logins_in_subtree(context.root_path)
    return Q(**{f"{field}__in": accounts.values("user_id")}) | Q(
        **{f"{field}__in": volunteers.values("user_id")}
    )


def resident_events(context: Context) -> dict[int, set[tuple[str, int]]]:
    """resident id → the distinct events they took part in during the 90 days up to the end
    of the period (residents of the subtree only; one query per source)."""

    def load():
        users = _user_residents(context)
        sources: list[tuple[str, Iterable[tuple[int, int]]]] = [
            (
                OCCURRENCE,
                SignUp.objects.filter(
                    _by_subtree_login("user_id", context),
                    _between("checked_in_at", context, PARTICIPATION_DAYS),
                    status=SignUpStatus.CONFIRMED,
                ).values_list("user_id", "occurrence_id"),
            ),
            (
                TOPIC,
                Opinion.objects.filter(
                    _by_subtree_login("author_id", context),
                    _between("created_at", context, PARTICIPATION_DAYS),
                ).values_list("author_id", "topic_id"),
            ),
            (
                TOPIC,
                TopicSupport.objects.filter(
                    _by_subtree_login("user_id", context),
                    _between("created_at", context, PARTICIPATION_DAYS),
                ).values_list("user_id", "topic_id"),
            ),
            (
                SURVEY,
                SurveyResponse.objects.filter(
                    _by_subtree_login("respondent_id", context),
                    _between("submitted_at", context, PARTICIPATION_DAYS),
                ).values_list("respondent_id", "survey_id"),
            ),
        ]
        events: dict[int, set[tuple[str, int]]] = defaultdict(set)
        for kind, rows in sources:
            for user_id, event_id in rows.order_by().distinct():
                resident = users.get(user_id)
                if resident is not None:
                    events[resident[0]].add((kind, event_id))
        return dict(events)

    return context.memo("cultural:resident_events", load)


def _resident_paths(context: Context) -> dict[int, str]:
    return dict(_user_residents(context).values())


def _participants(context: Context, minimum_events: int) -> dict[str, float]:
    paths = _resident_paths(context)
    rows = [
        (paths[resident_id], 1)
        for resident_id, events in resident_events(context).items()
        if len(events) >= minimum_events
    ]
    return rollup(rows, context)


def participation_90d(context: Context) -> dict[str, Measure]:
    return ratio(_participants(context, 1), residents_per_unit(context), context)


def repeat_participation(context: Context) -> dict[str, Measure]:
    return ratio(_participants(context, REPEAT_EVENTS), _participants(context, 1), context)


def _household_label(resident: dict) -> str:
    return f"{resident['household__building__name']} {resident['household__room']}"


def _resident_rows(context: Context, unit: Unit, user, *, participants_only: bool) -> DrillDown:
    """The visible residents of the unit with their number of events, fewest first (those
    who took no part, or only once, are the ones to invite)."""
    events = resident_events(context)
    residents = list(
        residents_visible(user=user)
        .filter(grid_path__startswith=unit.path)
        .values("id", "name", "grid_path", "household__building__name", "household__room")
        .order_by("grid_path", "id")
    )
    if participants_only:
        residents = [resident for resident in residents if events.get(resident["id"])]
    residents.sort(key=lambda resident: len(events.get(resident["id"], ())))
    rows, links = [], []
    for resident in residents[:DRILLDOWN_LIMIT]:
        count = len(events.get(resident["id"], ()))
        rows.append(
            [
                resident["name"],
                _household_label(resident),
                str(count),
                str(_("Yes")) if count else str(_("No")),
            ]
        )
        links.append(reverse("grids:resident_detail", args=[resident["id"]]))
    return DrillDown(
        columns=[
            str(_("Resident")),
            str(_("Household")),
            str(_("Events in the last 90 days")),
            str(_("Took part")),
        ],
        rows=rows,
        links=links,
        total=len(residents),
        note=str(
            _("Participants of the last 90 days, those with a single event first.")
            if participants_only
            else _("Residents of the unit, those who took no part in the last 90 days first.")
        ),
    )


def participation_rows(context: Context, unit: Unit, user) -> DrillDown:
    return _resident_rows(context, unit, user, participants_only=False)


def repeat_rows(context: Context, unit: Unit, user) -> DrillDown:
    return _resident_rows(context, unit, user, participants_only=True)


# Stakeholder diversity ------------------------------------------------------------------------

GROUP_COUNT = len(StakeholderGroup.values)


def stakeholder_diversity(context: Context) -> dict[str, Measure]:
    """Distinct groups that posted opinions in the unit's topics in 180 days ÷ the 7 groups.
    A hidden opinion still counts: hiding moderates the text, the group still spoke."""
    known = set(context.paths)
    groups: dict[str, set[str]] = defaultdict(set)
    rows = (
        Opinion.objects.filter(
            _between("created_at", context, DIVERSITY_DAYS),
            topic__grid_path__startswith=context.root_path,
        )
        .values_list("topic__grid_path", "group")
        .order_by()
        .distinct()
    )
    for path, group in rows:
        for ancestor in path_ancestors(path):
            if ancestor in known:
                groups[ancestor].add(group)
    return {
        path: Measure(
            len(groups.get(path, ())) / GROUP_COUNT, len(groups.get(path, ())), GROUP_COUNT
        )
        for path in context.paths
    }


def diversity_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The visible topics of the unit with opinions in the 180 days and which groups spoke."""
    labels = dict(StakeholderGroup.choices)
    topics = topics_visible(user=user).filter(grid_path__startswith=unit.path)
    rows_by_topic: dict[int, dict] = {}
    for topic_id, title, group in (
        Opinion.objects.filter(
            _between("created_at", context, DIVERSITY_DAYS),
            topic__in=topics.values("id"),
        )
        .values_list("topic_id", "topic__title", "group")
        .order_by("topic_id")
        .distinct()
    ):
        rows_by_topic.setdefault(topic_id, {"title": title, "groups": set()})["groups"].add(group)
    spoke = set().union(*(row["groups"] for row in rows_by_topic.values()))
    ordered = sorted(rows_by_topic.items(), key=lambda item: (len(item[1]["groups"]), item[0]))
    rows, links = [], []
    for topic_id, row in ordered[:DRILLDOWN_LIMIT]:
        in_order = [group for group in StakeholderGroup.values if group in row["groups"]]
        rows.append([row["title"], "、".join(str(labels[g]) for g in in_order), str(len(in_order))])
        links.append(reverse("participation:deliberation_detail", args=[topic_id]))
    silent = [str(labels[g]) for g in StakeholderGroup.values if g not in spoke]
    return DrillDown(
        columns=[str(_("Topic")), str(_("Groups that spoke")), str(_("Groups"))],
        rows=rows,
        links=links,
        total=len(ordered),
        note=str(_("Groups without an opinion in the last 180 days: %(groups)s"))
        % {"groups": "、".join(silent) if silent else "—"},
    )


# Ties (from the stored co-participation network) ---------------------------------------------

# The levels the ties rebuild stores a snapshot for (linli.participation.ties.services.STORED_LEVELS).
TIE_LEVELS = (GridLevel.COMMUNITY, GridLevel.MICRO_GRID, GridLevel.BUILDING_GROUP)


def _latest_snapshot_ids(units, end) -> Subquery:
    """The id of each unit's latest snapshot computed at or before `end` (one correlated
    subquery per unit, answered by the (unit, -computed_at) index)."""
    latest = (
        TieSnapshot.objects.filter(unit_id=OuterRef("pk"), computed_at__lte=end)
        .order_by("-computed_at", "-id")
        .values("id")[:1]
    )
    return units.annotate(snapshot_id=Subquery(latest)).values("snapshot_id")


def tie_snapshots(context: Context) -> dict[str, tuple[str, int, float | None, int]]:
    """unit path → (level, participants, largest connected share, isolated vulnerable) of the
    latest snapshot at or before the end of the period, for the stored levels."""

    def load():
        units = GridUnit.objects.filter(
            path__startswith=context.root_path, level__in=TIE_LEVELS
        ).order_by()
        return {
            path: (level, participants, share, isolated)
            for path, level, participants, share, isolated in TieSnapshot.objects.filter(
                id__in=_latest_snapshot_ids(units, context.end)
            )
            .order_by()
            .values_list(
                "grid_path",
                "level",
                "participants",
                "largest_component_share",
                "isolated_vulnerable",
            )
        }

    return context.memo("cultural:ties", load)


def _above_communities(context: Context) -> set[str]:
    community_depth = level_depth(GridLevel.COMMUNITY)
    return {unit.path for unit in context.units if level_depth(unit.level) < community_depth}


def _community_sums(context: Context, amounts: dict[str, float]) -> dict[str, float]:
    """Sum a per-community amount into the units above community level (a street, a block):
    the stored network stops at the community, so those levels add their communities up."""
    snapshots = tie_snapshots(context)
    rows = [
        (path, amounts.get(path, 0.0))
        for path, (level, *_rest) in snapshots.items()
        if level == GridLevel.COMMUNITY
    ]
    above = _above_communities(context)
    return {path: total for path, total in rollup(rows, context).items() if path in above}


def largest_connected(context: Context) -> dict[str, Measure]:
    """Participants in the largest connected component ÷ participants, from the snapshot.
    Above community level: participants in their own community's largest component ÷ the
    communities' participants (the stored network has no component spanning communities)."""
    snapshots = tie_snapshots(context)
    in_largest = {
        path: round((share or 0.0) * participants)
        for path, (_level, participants, share, _isolated) in snapshots.items()
    }
    participants = {path: float(row[1]) for path, row in snapshots.items()}
    above = _above_communities(context)
    summed_largest = _community_sums(context, in_largest)
    summed_participants = _community_sums(context, participants)
    result = {}
    for path in context.paths:
        if path in above:
            numerator = summed_largest.get(path, 0.0)
            denominator = summed_participants.get(path, 0.0)
            value = numerator / denominator if denominator else None
            result[path] = Measure(value, numerator, denominator)
        elif path in snapshots:
            _level, count, share, _isolated = snapshots[path]
            result[path] = Measure(share, float(in_largest[path]), float(count))
        else:
            result[path] = Measure(None)
    return result


def vulnerable_per_unit(context: Context) -> dict[str, float]:
    """Residents carrying a tag that makes them someone to visit when they have no tie (the
    same tags as linli.participation.ties.services)."""

    def count():
        condition = Q(pk__in=[])
        for tag in VISIT_TAGS:
            condition |= Q(vulnerability_tags__contains=f",{tag},")
        rows = (
            Resident.objects.filter(condition, grid_path__startswith=context.root_path)
            .values("grid_path")
            .annotate(n=Count("id"))
            .values_list("grid_path", "n")
            .order_by()
        )
        return rollup(rows, context)

    return context.memo("cultural:vulnerable", count)


def isolated_vulnerable(context: Context) -> dict[str, Measure]:
    """Vulnerable residents without a tie per 100 vulnerable residents. The count is the
    snapshot's; the vulnerable residents are the registry's (the snapshot does not keep
    them). Above community level only the communities with a snapshot are added up."""
    snapshots = tie_snapshots(context)
    vulnerable = vulnerable_per_unit(context)
    isolated = {path: float(row[3]) for path, row in snapshots.items()}
    above = _above_communities(context)
    summed_isolated = _community_sums(context, isolated)
    summed_vulnerable = _community_sums(context, vulnerable)
    numerators, denominators = {}, {}
    for path in context.paths:
        if path in above:
            numerators[path] = summed_isolated.get(path, 0.0)
            denominators[path] = summed_vulnerable.get(path, 0.0)
        elif path in snapshots:
            numerators[path] = isolated[path]
            denominators[path] = vulnerable.get(path, 0.0)
    return ratio(numerators, denominators, context, scale=100.0)


def _sensitive_paths(user) -> list[str]:
    # The same gate as the ties page (linli.participation.ties): who has no tie is read off
    # vulnerability tags, so it needs VIEW_SENSITIVE.
    return scope_for(user).paths_for(Permission.VIEW_SENSITIVE)


def largest_connected_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The snapshots (as of the end of the period) of the unit and the units below it."""
    units = GridUnit.objects.filter(path__startswith=unit.path, level__in=TIE_LEVELS).order_by()
    snapshots = (
        TieSnapshot.objects.filter(id__in=_latest_snapshot_ids(units, context.end))
        .within(_sensitive_paths(user))
        .select_related("unit")
        .order_by("grid_path")
    )
    total = snapshots.count()
    rows, links = [], []
    for snapshot in snapshots[:DRILLDOWN_LIMIT]:
        share = snapshot.largest_component_share
        rows.append(
            [
                snapshot.unit.name,
                str(snapshot.participants),
                f"{share:.0%}" if share is not None else "—",
                f"{snapshot.density:.2f}",
                snapshot.computed_at.astimezone().strftime("%Y-%m-%d"),
            ]
        )
        links.append(reverse("participation:ties") + f"?unit={snapshot.unit_id}")
    return DrillDown(
        columns=[
            str(_("Grid unit")),
            str(_("Participants")),
            str(_("Largest connected share")),
            str(_("Density")),
            str(_("Computed")),
        ],
        rows=rows,
        links=links,
        total=total,
        note=str(_("The co-participation network as last computed before the end of the period.")),
    )


def isolated_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The people to visit: the vulnerable residents without a tie, from the micro-grid
    snapshots in force at the end of the period, within the viewer's VIEW_SENSITIVE scope."""
    micro_grids = GridUnit.objects.filter(level=GridLevel.MICRO_GRID).filter(
        within_or_above([unit.path], "path")
    )
    residents = (
        IsolatedResident.objects.filter(
            snapshot_id__in=_latest_snapshot_ids(micro_grids.order_by(), context.end),
            grid_path__startswith=unit.path,
        )
        .within(_sensitive_paths(user))
        .select_related("resident__household__building")
        .order_by("grid_path", "resident_id")
    )
    total = residents.count()
    rows, links = [], []
    for row in residents[:DRILLDOWN_LIMIT]:
        resident = row.resident
        rows.append(
            [
                resident.name,
                f"{resident.household.building.name} {resident.household.room}",
                "、".join(resident.tag_labels),
            ]
        )
        links.append(reverse("grids:resident_detail", args=[resident.pk]))
    return DrillDown(
        columns=[str(_("Resident")), str(_("Household")), str(_("Tags"))],
        rows=rows,
        links=links,
        total=total,
        note=str(_("Vulnerable residents with no tie in the network: people to visit.")),
    )


# Case satisfaction ------------------------------------------------------------------------------


def _rated_in_window(context: Context) -> Exists:
    return Exists(
        CaseEvent.objects.filter(
            _between("created_at", context, SATISFACTION_DAYS), case=OuterRef("pk"), action="rate"
        )
    )


def case_satisfaction(context: Context) -> dict[str, Measure]:
    """The mean 1–5 rating of the cases rated in the 90 days (the rating they carry now: a
    re-rating replaces the first, a reopening clears it); `denominator` is how many."""
    rows = list(
        Case.objects.filter(
            _rated_in_window(context),
            grid_path__startswith=context.root_path,
            satisfaction__isnull=False,
        )
        .values("grid_path")
        .annotate(n=Count("id"), total=Sum("satisfaction"))
        .values_list("grid_path", "n", "total")
        .order_by()
    )
    counts = rollup(((path, n) for path, n, _total in rows), context)
    totals = rollup(((path, total) for path, _n, total in rows), context)
    return {
        path: Measure(
            totals.get(path, 0.0) / counts[path] if counts.get(path) else None,
            None,
            counts.get(path, 0.0),
        )
        for path in context.paths
    }


def satisfaction_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The visible cases of the unit rated in the 90 days, lowest rating first."""
    cases = (
        cases_visible(user=user)
        .filter(
            _rated_in_window(context), grid_path__startswith=unit.path, satisfaction__isnull=False
        )
        .order_by("satisfaction", "-id")
    )
    total = cases.count()
    rows, links = [], []
    for case in cases[:DRILLDOWN_LIMIT]:
        rows.append(
            [case.reference, case.title, str(case.satisfaction), case.satisfaction_comment or "—"]
        )
        links.append(reverse("cases:detail", args=[case.pk]))
    return DrillDown(
        columns=[str(_("Case")), str(_("Title")), str(_("Satisfaction")), str(_("Comment"))],
        rows=rows,
        links=links,
        total=total,
        note=str(_("Cases rated in the last 90 days, the lowest rated first.")),
    )


# The resilience survey --------------------------------------------------------------------------


def _template_factors() -> list[str]:
    """The resilience template's factor names, in order."""
    return list(
        SurveyFactor.objects.filter(
            survey__is_template=True, survey__title=RESILIENCE_TEMPLATE_TITLE
        )
        .order_by("position", "id")
        .values_list("name", flat=True)
    )


def resilience_surveys(context: Context) -> dict[str, dict]:
    """Each community's latest open or closed resilience survey opened before the end of
    the period: community path → {id, title, anonymous, state}."""

    def load():
        wanted = set(_template_factors())
        if not wanted:
            return {}
        factors: dict[int, set[str]] = defaultdict(set)
        surveys: dict[int, dict] = {}
        root_or_above = within_or_above([context.root_path])
        for survey_id, name, path, opens_at, title, anonymous, state in (
            SurveyFactor.objects.filter(
                survey__in=Survey.objects.filter(
                    root_or_above,
                    is_template=False,
                    state__in=[SurveyState.OPEN, SurveyState.CLOSED],
                    opens_at__lt=context.end,
                )
            )
            .values_list(
                "survey_id",
                "name",
                "survey__grid_path",
                "survey__opens_at",
                "survey__title",
                "survey__anonymous",
                "survey__state",
            )
            .order_by()
        ):
            factors[survey_id].add(name)
            surveys[survey_id] = dict(
                id=survey_id,
                path=path,
                opens_at=opens_at,
                title=title,
                anonymous=anonymous,
                state=state,
            )
        latest: dict[str, dict] = {}
        for survey in sorted(surveys.values(), key=lambda s: (s["opens_at"], s["id"])):
            if factors[survey["id"]] == wanted:
                latest[survey["path"]] = survey
        return latest

    return context.memo("cultural:surveys", load)


def survey_factor_sums(context: Context, survey_ids: list[int], root: str):
    """(response path, factor name, sum of recoded answers, answers, respondents) of the
    responses submitted before the end of the period inside `root`. Every response answers
    every item (surveys.survey_respond), so a unit's factor mean over the answers equals the
    mean of its respondents' factor scores (survey_stats.factor_score)."""
    recoded = models.Case(
        When(item__reverse_scored=True, then=Value(LIKERT_MIN + LIKERT_MAX) - F("value")),
        default=F("value"),
        output_field=models.IntegerField(),
    )
    return list(
        SurveyAnswer.objects.filter(
            response__survey_id__in=survey_ids,
            response__submitted_at__lt=context.end,
            response__grid_path__startswith=root,
        )
        .values("response__grid_path", "item__factor__name")
        .annotate(
            total=Sum(recoded), n=Count("id"), respondents=Count("response_id", distinct=True)
        )
        .values_list("response__grid_path", "item__factor__name", "total", "n", "respondents")
        .order_by()
    )


def normalise(score: float) -> float:
    """A 1–5 Likert mean onto 0–1."""
    return (score - LIKERT_MIN) / (LIKERT_MAX - LIKERT_MIN)


def _unit_scores(rows, context: Context) -> tuple[dict, dict]:
    """Per unit: factor name → mean (1–5), and the respondents."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    respondents: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    known = set(context.paths)
    for path, factor, total, n, people in rows:
        for ancestor in path_ancestors(path):
            if ancestor in known:
                totals[ancestor][factor] += total
                counts[ancestor][factor] += n
                respondents[ancestor][factor] += people
    means = {
        path: {factor: totals[path][factor] / n for factor, n in counts[path].items() if n}
        for path in counts
    }
    people = {path: max(by_factor.values(), default=0.0) for path, by_factor in respondents.items()}
    return means, people


def survey_score(context: Context) -> dict[str, Measure]:
    """The mean of the five factor scores (each the mean of the respondents' factor scores)
    of the latest resilience survey of each community, mapped from 1–5 onto 0–1;
    `denominator` is the respondents. An anonymous survey with fewer than three respondents
    in a unit gives no value (as on the results page, it would point at its authors)."""
    surveys = resilience_surveys(context)
    rows = survey_factor_sums(context, [s["id"] for s in surveys.values()], context.root_path)
    means, people = _unit_scores(rows, context)
    anonymous_below = {
        path
        for path in context.paths
        if any(
            s["anonymous"] for p, s in surveys.items() if p.startswith(path) or path.startswith(p)
        )
    }
    result = {}
    for path in context.paths:
        respondents = people.get(path, 0.0)
        factor_means = list(means.get(path, {}).values())
        if not factor_means or (path in anonymous_below and respondents < MIN_ANONYMOUS_CELL):
            result[path] = Measure(None, None, respondents)
            continue
        result[path] = Measure(normalise(fmean(factor_means)), None, respondents)
    return result


def survey_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The resilience survey of each community in the unit whose results the viewer reads
    (the whole community: SURVEYS_RESULTS on it), with its factor scores here."""
    results_scope = scope_for(user)
    surveys = [
        survey
        for path, survey in sorted(resilience_surveys(context).items())
        if (path.startswith(unit.path) or unit.path.startswith(path))
        and results_scope.allows(Permission.SURVEYS_RESULTS, path)
    ]
    factor_names = _template_factors()
    rows, links = [], []
    for survey in surveys:
        sums = survey_factor_sums(context, [survey["id"]], unit.path)
        by_factor: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        per_factor_people: dict[str, float] = defaultdict(float)
        for _path, factor, total, n, people in sums:
            by_factor[factor][0] += total
            by_factor[factor][1] += n
            per_factor_people[factor] += people
        respondents = max(per_factor_people.values(), default=0.0)
        hidden = survey["anonymous"] and 0 < respondents < MIN_ANONYMOUS_CELL
        means = [
            by_factor[name][0] / by_factor[name][1] if by_factor[name][1] and not hidden else None
            for name in factor_names
        ]
        present = [mean for mean in means if mean is not None]
        rows.append(
            [
                survey["title"],
                "—" if hidden else str(int(respondents)),
                *(f"{mean:.2f}" if mean is not None else "—" for mean in means),
                f"{normalise(fmean(present)):.0%}" if present else "—",
            ]
        )
        links.append(reverse("participation:survey_results", args=[survey["id"]]))
    return DrillDown(
        columns=[
            str(_("Survey")),
            str(_("Responses")),
            *factor_names,
            str(_("Score")),
        ],
        rows=rows,
        links=links,
        total=len(rows),
        note=str(
            _(
                "Factor scores on the 1–5 scale; the score is their mean mapped from 1–5 onto "
                "0–100 per cent. The results page has the details."
            )
        ),
    )


# The catalogue --------------------------------------------------------------------------------

register(
    Indicator(
        code="K_PARTICIPATION_90D",
        dimension=Dimension.CULTURAL,
        name=_("Residents who took part in the last 90 days"),
        formula=_(
            "residents who checked in to an activity, posted an opinion, supported a topic or "
            "answered a survey under their name in the 90 days up to the end of the period "
            "÷ residents (counted where the resident lives)"
        ),
        source=_("Activity check-ins, deliberation opinions and supports, survey responses"),
        direction=HIGHER,
        target=0.3,
        unit="share",
        compute=participation_90d,
        drilldown=participation_rows,
    )
)

register(
    Indicator(
        code="K_REPEAT",
        dimension=Dimension.CULTURAL,
        name=_("Repeat participation"),
        formula=_(
            "participants of the 90 days who took part in two or more distinct events "
            "(activity dates, topics, surveys) ÷ participants of the 90 days"
        ),
        source=_("Activity check-ins, deliberation opinions and supports, survey responses"),
        direction=HIGHER,
        target=0.5,
        unit="share",
        compute=repeat_participation,
        drilldown=repeat_rows,
    )
)

register(
    Indicator(
        code="K_DIVERSITY",
        dimension=Dimension.CULTURAL,
        name=_("Stakeholder diversity in deliberation"),
        formula=_(
            "distinct stakeholder groups that posted opinions on the unit's topics in the 180 "
            "days up to the end of the period ÷ the 7 groups"
        ),
        source=_("Deliberation opinions (议事厅) and their stakeholder groups"),
        direction=HIGHER,
        target=5 / 7,
        unit="share",
        compute=stakeholder_diversity,
        drilldown=diversity_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)

register(
    Indicator(
        code="K_LARGEST_CONNECTED",
        dimension=Dimension.CULTURAL,
        name=_("Participants in the largest connected group"),
        formula=_(
            "participants in the largest connected component of the co-participation network "
            "÷ participants, from the latest network computed before the end of the period "
            "(above community level: summed over the communities)"
        ),
        source=_("Co-participation network (ties snapshots)"),
        direction=HIGHER,
        target=0.5,
        unit="share",
        compute=largest_connected,
        drilldown=largest_connected_rows,
    )
)

register(
    Indicator(
        code="K_ISOLATED_VULNERABLE",
        dimension=Dimension.CULTURAL,
        name=_("Vulnerable residents without ties"),
        formula=_(
            "vulnerable residents (living alone, empty-nest, disabled, seriously ill) with no "
            "tie in the latest network computed before the end of the period "
            "÷ such residents × 100"
        ),
        source=_("Co-participation network (ties snapshots) and the resident registry"),
        direction=LOWER,
        target=5.0,
        unit="per_100",
        compute=isolated_vulnerable,
        drilldown=isolated_rows,
    )
)

register(
    Indicator(
        code="K_SATISFACTION",
        dimension=Dimension.CULTURAL,
        name=_("Case satisfaction"),
        formula=_(
            "mean satisfaction (1–5) of the cases rated in the 90 days up to the end of the period"
        ),
        source=_("Case ratings by reporters"),
        direction=HIGHER,
        target=4.5,
        unit="score",
        compute=case_satisfaction,
        drilldown=satisfaction_rows,
    )
)

register(
    Indicator(
        code="K_SURVEY",
        dimension=Dimension.CULTURAL,
        name=_("Community resilience survey score"),
        formula=_(
            "mean of the five factor scores of each community's latest open or closed "
            "resilience survey (responses up to the end of the period), (score − 1) ÷ 4"
        ),
        source=_("Community resilience survey (社区韧性调查) responses"),
        direction=HIGHER,
        target=0.75,
        unit="share",
        compute=survey_score,
        drilldown=survey_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)
