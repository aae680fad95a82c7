"""Reads of partners and the three lists, scoped through grids.selectors.scope_for.

Staff read by permission on grid paths (PARTNERS_VIEW for partners, resources, projects and
matching; VIEW_REGISTRY for needs, like cases). A liaison reads their own unit and the open
needs of its community; a volunteer the open needs of their community; a resident their own
household's needs. Beneficiaries appear to outsiders as building + masked name, never room.
"""

import heapq
import math
from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import (
    ASin,
    Cast,
    Cos,
    Greatest,
    Least,
    Length,
    Power,
    Radians,
    Replace,
    Sin,
    Sqrt,
)
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import path_ancestors, path_at_depth, within, within_or_above
from linli.accounts.models import User
from linli.accounts.privacy import mask_numbers_in_text
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.geo import EARTH_RADIUS_METRES, distance_metres
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.partners.models import (
    CRITICAL_CATEGORIES,
    Agreement,
    Claim,
    ClaimState,
    Need,
    NeedState,
    Partner,
    Project,
    Resource,
    ServiceCategory,
)
from linli.partners.services import partner_of, volunteer_of
from linli.volunteers.models import CODE_SEPARATOR, Skill, Volunteer, decode_codes
from linli.volunteers.selectors import COMMUNITY_DEPTH

# Which volunteer skills answer which kind of need.
SKILLS_FOR_CATEGORY: dict[str, tuple[str, ...]] = {
    ServiceCategory.MEDICAL: (Skill.MEDICAL, Skill.NURSING, Skill.FIRST_AID),
    ServiceCategory.LEGAL: (Skill.LEGAL,),
    ServiceCategory.FOOD: (Skill.COOKING, Skill.LOGISTICS),
    ServiceCategory.WATER: (Skill.LOGISTICS,),
    ServiceCategory.SHELTER: (Skill.LOGISTICS,),
    ServiceCategory.TRANSPORT: (Skill.DRIVING,),
    ServiceCategory.REPAIR: (Skill.REPAIR,),
    ServiceCategory.PSYCHOLOGICAL: (Skill.PSYCHOLOGICAL,),
    ServiceCategory.INFORMATION: (Skill.IT, Skill.PUBLICITY, Skill.LANGUAGE),
    ServiceCategory.ELDER_CARE: (Skill.ELDER_CARE, Skill.NURSING),
    ServiceCategory.CHILD_CARE: (Skill.CHILD_CARE,),
    ServiceCategory.OTHER: (),
}


def community_path_of(grid_unit: GridUnit) -> str:
    """The path of the community a unit lies in (or the unit's own, above community)."""
    return path_at_depth(grid_unit.path, COMMUNITY_DEPTH)


def provider_paths(*, user: User | None) -> list[str]:
    """Where the user's provider roles reach: their partner's or their volunteer's community."""
    paths = []
    partner = partner_of(user)
    if partner is not None:
        paths.append(partner.grid_path)
    volunteer = volunteer_of(user)
    if volunteer is not None:
        paths.append(community_path_of(volunteer.grid_unit))
    return paths


# Partners -----------------------------------------------------------------------------------


def partners_visible(*, user: User | None) -> QuerySet[Partner]:
    scope = scope_for(user)
    condition = within_or_above(scope.paths_for(Permission.PARTNERS_VIEW))
    own = partner_of(user)
    if own is not None:
        condition |= Q(pk=own.pk)
    return Partner.objects.filter(condition).select_related("grid_unit")


def partner_get(*, user: User | None, partner_id: int) -> Partner:
    return get_visible_or_404(partners_visible(user=user), partner_id)


def partner_history(*, partner: Partner) -> dict:
    """Everything the unit has done: its claims and its projects, newest first."""
    claims = (
        Claim.objects.filter(partner=partner)
        .select_related("need")
        .order_by("-created_at", "-id")[:100]
    )
    projects = Project.objects.filter(resource__partner=partner).order_by("-starts_on", "-id")
    counts = Claim.objects.filter(partner=partner).aggregate(
        total=Count("id"), confirmed=Count("id", filter=Q(state=ClaimState.CONFIRMED))
    )
    return {"claims": list(claims), "projects": list(projects), **counts}


# Needs --------------------------------------------------------------------------------------


def needs_visible(*, user: User | None) -> QuerySet[Need]:
    """Staff: needs in their registry subtree. Providers: the open needs of their community
    and the needs they claimed. Residents: their own household's needs."""
    if user is None or not user.is_authenticated:
        return Need.objects.none()
    scope = scope_for(user)
    condition = within(scope.paths_for(Permission.VIEW_REGISTRY))
    if scope.own_household_ids:
        condition |= Q(household_id__in=scope.own_household_ids)
    reach = provider_paths(user=user)
    if reach:
        condition |= within(reach) & Q(state=NeedState.OPEN)
        partner, volunteer = partner_of(user), volunteer_of(user)
        claimed = Claim.objects.filter(need=OuterRef("pk"))
        mine = Q(pk__in=[])
        if partner is not None:
            mine |= Q(partner=partner)
        if volunteer is not None:
            mine |= Q(volunteer=volunteer)
        condition |= Q(Exists(claimed.filter(mine)))
    return Need.objects.filter(condition).select_related(
        "household__building", "beneficiary", "grid_unit"
    )


def need_get(*, user: User | None, need_id: int) -> Need:
    return get_visible_or_404(needs_visible(user=user), need_id)


def open_needs_for_provider(*, user: User | None) -> QuerySet[Need]:
    reach = provider_paths(user=user)
    if not reach:
        return Need.objects.none()
    urgency_first = ["urgent", "high", "normal", "low"]
    rank = Case(
        *[When(urgency=value, then=Value(index)) for index, value in enumerate(urgency_first)],
        output_field=IntegerField(),
    )
    return (
        Need.objects.filter(within(reach), state=NeedState.OPEN)
        .select_related("household__building", "beneficiary")
        .annotate(urgency_rank=rank)
        .order_by("urgency_rank", "created_at", "id")
    )


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def beneficiary_label(*, user: User | None, need: Need) -> str:
    """Staff who see the household read building, room and name; everyone else (partners,
    volunteers) reads the building and a masked name only."""
    household = need.household
    if household is None:
        return need.grid_unit.name
    building = household.building.name
    name = need.beneficiary.name if need.beneficiary is not None else ""
    scope = scope_for(user)
    if scope.allows(Permission.VIEW_REGISTRY, need.grid_path) or (
        need.household_id in scope.own_household_ids
    ):
        return " ".join(part for part in (building, household.room, name) if part)
    return " · ".join(part for part in (building, mask_name(name)) if part)


def need_description(*, user: User | None, need: Need) -> str:
    """The description as typed for staff who see the household (it may name people and
    their numbers); partners and volunteers read it with phone and ID numbers masked."""
    scope = scope_for(user)
    if scope.allows(Permission.VIEW_REGISTRY, need.grid_path) or (
        need.household_id is not None and need.household_id in scope.own_household_ids
    ):
        return need.description
    return mask_numbers_in_text(need.description)


# Resources, claims, projects ----------------------------------------------------------------


def resources_visible(*, user: User | None) -> QuerySet[Resource]:
    scope = scope_for(user)
    condition = within_or_above(scope.paths_for(Permission.PARTNERS_VIEW))
    partner, volunteer = partner_of(user), volunteer_of(user)
    if partner is not None:
        condition |= Q(partner=partner)
    if volunteer is not None:
        condition |= Q(volunteer=volunteer)
    return Resource.objects.filter(condition).select_related("partner", "volunteer")


def resource_get(*, user: User | None, resource_id: int) -> Resource:
    return get_visible_or_404(resources_visible(user=user), resource_id)


def claims_visible(*, user: User | None) -> QuerySet[Claim]:
    if user is None or not user.is_authenticated:
        return Claim.objects.none()
    scope = scope_for(user)
    condition = within(
        scope.paths_for(Permission.PARTNERS_VIEW) + scope.paths_for(Permission.LISTS_MANAGE)
    )
    if scope.own_household_ids:
        condition |= Q(need__household_id__in=scope.own_household_ids)
    partner, volunteer = partner_of(user), volunteer_of(user)
    if partner is not None:
        condition |= Q(partner=partner)
    if volunteer is not None:
        condition |= Q(volunteer=volunteer)
    return Claim.objects.filter(condition).select_related(
        "need__household__building", "need__beneficiary", "need__grid_unit", "partner", "volunteer"
    )


def claim_get(*, user: User | None, claim_id: int) -> Claim:
    return get_visible_or_404(claims_visible(user=user), claim_id)


def my_claims(*, user: User | None) -> QuerySet[Claim]:
    """The claims a liaison's unit or a volunteer made, open ones first."""
    partner, volunteer = partner_of(user), volunteer_of(user)
    condition = Q(pk__in=[])
    if partner is not None:
        condition |= Q(partner=partner)
    if volunteer is not None:
        condition |= Q(volunteer=volunteer)
    return (
        Claim.objects.filter(condition)
        .select_related("need__household__building", "need__beneficiary", "need__grid_unit")
        .order_by("-updated_at", "-id")
    )


def projects_visible(*, user: User | None) -> QuerySet[Project]:
    if user is None or not user.is_authenticated:
        return Project.objects.none()
    scope = scope_for(user)
    condition = within(scope.paths_for(Permission.PARTNERS_VIEW)) | Q(owner=user)
    partner, volunteer = partner_of(user), volunteer_of(user)
    if partner is not None:
        condition |= Q(resource__partner=partner)
    if volunteer is not None:
        condition |= Q(resource__volunteer=volunteer)
    return Project.objects.filter(condition).select_related("need", "resource", "owner")


def project_get(*, user: User | None, project_id: int) -> Project:
    return get_visible_or_404(projects_visible(user=user), project_id)


# Matching -----------------------------------------------------------------------------------

FIT_POINTS = 40.0
DISTANCE_POINTS = 30.0
AVAILABILITY_POINTS = 15.0
RELIABILITY_POINTS = 15.0
# Beyond this, distance adds nothing: a community is a few hundred metres across.
DISTANCE_HORIZON_METRES = 3000.0
UNKNOWN_DISTANCE_POINTS = 10.0
# At most this many rows (best base scores first) are looked up for reliability (see below).
RERANK_CAP = 500


@dataclass
class Match:
    kind: str  # "resource" or "volunteer"
    id: int
    name: str
    provider: str
    partner_id: int | None
    volunteer_id: int | None
    score: float
    distance_metres: float | None
    reasons: list[str]

    @property
    def reason(self) -> str:
        return " · ".join(self.reasons)


def _metres(origin: tuple[float, float] | None, latitude, longitude) -> float | None:
    if origin is None or latitude is None:
        return None
    return distance_metres(origin[0], origin[1], latitude, longitude)


def _distance_points(metres: float | None) -> float:
    if metres is None:
        return UNKNOWN_DISTANCE_POINTS
    return DISTANCE_POINTS * max(0.0, 1.0 - metres / DISTANCE_HORIZON_METRES)


def _distance_reason(metres: float | None) -> str:
    if metres is None:
        return _("distance unknown")
    return _("%(metres)d m away") % {"metres": round(metres)}


def _reliability(
    partner_ids: set[int], volunteer_ids: set[int]
) -> dict[tuple[str, int], tuple[int, int]]:
    """(confirmed, finished) per provider: a finished claim is confirmed or cancelled."""
    if not partner_ids and not volunteer_ids:
        return {}
    rows = (
        Claim.objects.filter(
            Q(partner_id__in=partner_ids) | Q(volunteer_id__in=volunteer_ids),
            state__in=[ClaimState.CONFIRMED, ClaimState.CANCELLED],
        )
        .values("partner_id", "volunteer_id")
        .annotate(finished=Count("id"), confirmed=Count("id", filter=Q(state=ClaimState.CONFIRMED)))
        .order_by()
    )
    found: dict[tuple[str, int], tuple[int, int]] = {}
    for row in rows:
        key = ("p", row["partner_id"]) if row["partner_id"] else ("v", row["volunteer_id"])
        confirmed, finished = found.get(key, (0, 0))
        found[key] = (confirmed + row["confirmed"], finished + row["finished"])
    return found


def _distance_points_sql(origin: tuple[float, float] | None, lat: str, lon: str):
    """The distance points as SQL: haversine (Django's portable math functions, so SQLite
    and PostgreSQL agree), so that the database ranks the rows and returns only the best."""
    if origin is None:
        return Value(UNKNOWN_DISTANCE_POINTS)
    phi0, lambda0 = math.radians(origin[0]), math.radians(origin[1])
    phi = Radians(Cast(lat, FloatField()))
    lam = Radians(Cast(lon, FloatField()))
    half = Value(2.0)
    a = Power(Sin((phi - Value(phi0)) / half), 2) + Value(math.cos(phi0)) * Cos(phi) * Power(
        Sin((lam - Value(lambda0)) / half), 2
    )
    metres = Value(2.0 * EARTH_RADIUS_METRES) * ASin(Sqrt(a))
    points = Value(DISTANCE_POINTS) * (Value(1.0) - metres / Value(DISTANCE_HORIZON_METRES))
    return Case(
        When(**{f"{lat}__isnull": True}, then=Value(UNKNOWN_DISTANCE_POINTS)),
        default=Greatest(Value(0.0), points),
        output_field=FloatField(),
    )


def match_suggestions(*, need: Need, limit: int = 10, today: date | None = None) -> list[Match]:
    """Ranked resources and volunteers for an open need, each with its reason in words.

    Score out of 100: kind/skill fit 40, distance 30, availability 15, past reliability 15.
    The database scores fit, distance and availability (the base) and returns the
    RERANK_CAP best rows of each list; Python recomputes their base exactly, adds
    reliability (one grouped query) and writes the words for the final `limit` rows.
    Reliability can add at most RELIABILITY_POINTS, so only rows whose base is within that
    of the `limit`-th best base can still reach the top.
    """
    today = today or clock.localdate()
    wanted = max(need.remaining, 1)
    ancestors = path_ancestors(need.grid_path)
    community = path_at_depth(need.grid_path, COMMUNITY_DEPTH)
    origin = (
        (float(need.latitude), float(need.longitude))
        if need.latitude is not None and need.longitude is not None
        else None
    )
    # (base score, kind, row, metres, availability share)
    candidates: list[tuple] = []

    left = F("quantity") - F("committed_quantity")
    resources = (
        Resource.objects.filter(
            category=need.category,
            is_active=True,
            grid_path__in=ancestors,
            committed_quantity__lt=F("quantity"),
        )
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=today))
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=today))
        .annotate(
            base=Value(FIT_POINTS)
            + _distance_points_sql(origin, "latitude", "longitude")
            + Value(AVAILABILITY_POINTS)
            * Least(Value(1.0), Cast(left, FloatField()) / Value(float(wanted))),
        )
        .order_by("-base", "id")
        .values_list(
            "id",
            "partner_id",
            "volunteer_id",
            "latitude",
            "longitude",
            "quantity",
            "committed_quantity",
        )[:RERANK_CAP]
    )
    for row in resources:
        metres = _metres(origin, row[3], row[4])
        share = min(1.0, (row[5] - row[6]) / wanted)
        base = FIT_POINTS + _distance_points(metres) + AVAILABILITY_POINTS * share
        candidates.append((base, "resource", row, metres, share))

    skills = SKILLS_FOR_CATEGORY.get(need.category, ())
    if skills:
        skill_condition = Q(pk__in=[])
        for skill in skills:
            skill_condition |= Q(skills__contains=f"{CODE_SEPARATOR}{skill}{CODE_SEPARATOR}")
        closest = f"{CODE_SEPARATOR}{skills[0]}{CODE_SEPARATOR}"
        # Slots are stored ",a,b,": their number is the commas less one.
        slot_count = (
            Length("availability")
            - Length(Replace("availability", Value(CODE_SEPARATOR), Value("")))
            - Value(1)
        )
        volunteers = (
            Volunteer.objects.serving()
            .filter(grid_path__startswith=community)
            .filter(skill_condition)
            .annotate(
                base=Case(
                    When(skills__contains=closest, then=Value(FIT_POINTS)),
                    default=Value(FIT_POINTS * 0.75),
                    output_field=FloatField(),
                )
                + _distance_points_sql(
                    origin, "home_building__latitude", "home_building__longitude"
                )
                + Value(AVAILABILITY_POINTS)
                * Least(
                    Value(1.0),
                    Greatest(Value(0.0), Cast(slot_count, FloatField()) / Value(3.0)),
                ),
            )
            .order_by("-base", "id")
            .values_list(
                "id",
                "skills",
                "availability",
                "home_building__latitude",
                "home_building__longitude",
            )[:RERANK_CAP]
        )
        for row in volunteers:
            # The first skill listed for a category is the closest fit.
            fit = FIT_POINTS if closest in row[1] else FIT_POINTS * 0.75
            metres = _metres(origin, row[3], row[4])
            slots = row[2].count(CODE_SEPARATOR) - 1 if row[2] else 0
            share = min(1.0, slots / 3)
            base = fit + _distance_points(metres) + AVAILABILITY_POINTS * share
            candidates.append((base, "volunteer", row, metres, share))
    if not candidates:
        return []

    best = heapq.nlargest(limit, (item[0] for item in candidates))
    floor = best[-1] - RELIABILITY_POINTS
    contenders = heapq.nlargest(
        RERANK_CAP, (item for item in candidates if item[0] >= floor), key=lambda item: item[0]
    )
    record = _reliability(
        {item[2][1] for item in contenders if item[1] == "resource" and item[2][1]},
        {item[2][0] for item in contenders if item[1] == "volunteer"}
        | {item[2][2] for item in contenders if item[1] == "resource" and item[2][2]},
    )

    def provider_key(item) -> tuple[str, int]:
        kind, row = item[1], item[2]
        if kind == "volunteer":
            return ("v", row[0])
        return ("p", row[1]) if row[1] else ("v", row[2])

    scored = []
    for item in contenders:
        confirmed, finished = record.get(provider_key(item), (0, 0))
        reliability = confirmed / finished if finished else 0.5
        score = round(item[0] + RELIABILITY_POINTS * reliability, 1)
        scored.append((-score, item[1], item[2][0], item, confirmed, finished, score))
    scored.sort(key=lambda entry: entry[:3])
    top = scored[:limit]
    # Names for the final rows only: two queries whatever the list sizes.
    names = {
        "resource": Resource.objects.select_related("partner", "volunteer").in_bulk(
            [entry[2] for entry in top if entry[1] == "resource"]
        ),
        "volunteer": Volunteer.objects.in_bulk(
            [entry[2] for entry in top if entry[1] == "volunteer"]
        ),
    }
    return [
        _match(need, wanted, skills, names, score, confirmed, finished, *item)
        for _neg, _kind, _id, item, confirmed, finished, score in top
    ]


def _match(need, wanted, skills, names, score, confirmed, finished, base, kind, row, metres, share):
    """The words for one ranked row."""
    reliability = (
        _("%(confirmed)d of %(finished)d past claims confirmed")
        % {"confirmed": confirmed, "finished": finished}
        if finished
        else _("no finished claims yet")
    )
    if kind == "resource":
        resource = names["resource"][row[0]]
        left = resource.remaining
        available = (
            _("can cover all %(count)d") % {"count": wanted}
            if share >= 1
            else _("can cover %(count)d of %(total)d") % {"count": left, "total": wanted}
        )
        fit = _("offers %(kind)s") % {"kind": ServiceCategory(need.category).label}
        return Match(
            kind=kind,
            id=resource.pk,
            name=resource.title,
            provider=resource.provider_name,
            partner_id=resource.partner_id,
            volunteer_id=resource.volunteer_id,
            score=score,
            distance_metres=metres,
            reasons=[fit, _distance_reason(metres), available, reliability],
        )
    volunteer_id, skill_codes, slot_codes = row[:3]
    codes = decode_codes(skill_codes)
    labels = dict(Skill.choices)
    slots = len(decode_codes(slot_codes))
    name = names["volunteer"][volunteer_id].name
    return Match(
        kind=kind,
        id=volunteer_id,
        name=name,
        provider=name,
        partner_id=None,
        volunteer_id=volunteer_id,
        score=score,
        distance_metres=metres,
        reasons=[
            _("skill: %(skills)s")
            % {"skills": ", ".join(str(labels[s]) for s in skills if s in codes)},
            _distance_reason(metres),
            _("free %(count)d half-days a week") % {"count": slots}
            if slots
            else _("no weekly time given"),
            reliability,
        ],
    )


# Redundancy ---------------------------------------------------------------------------------


def communities_for(*, user: User | None) -> list[GridUnit]:
    """Communities whose resources page the user may open."""
    paths = scope_for(user).paths_for(Permission.PARTNERS_VIEW)
    if not paths:
        return []
    communities = GridUnit.objects.filter(level=GridLevel.COMMUNITY)
    # The communities inside the user's posts, and the one above a post below a community.
    return list(communities.filter(within_or_above(paths, "path")).order_by("path"))


def redundancy(*, community: GridUnit, today: date | None = None) -> list[dict]:
    """For each critical category, the independent providers in the community and a flag:
    none, a single point of failure, or redundant. Partners count only while an agreement
    is valid; volunteers count by an offered resource or a matching skill."""
    today = today or clock.localdate()
    valid = Agreement.objects.filter(
        partner=OuterRef("partner_id"), starts_on__lte=today, ends_on__gte=today
    )
    resources = (
        Resource.objects.filter(
            grid_path__startswith=community.path,
            is_active=True,
            category__in=CRITICAL_CATEGORIES,
        )
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=today))
        .filter(Q(partner__isnull=True) | Exists(valid))
        .values_list("category", "partner_id", "partner__name", "volunteer_id", "volunteer__name")
    )
    providers: dict[str, dict[tuple[str, int], str]] = {c: {} for c in CRITICAL_CATEGORIES}
    for category, partner_id, partner_name, volunteer_id, volunteer_name in resources:
        if partner_id:
            providers[category][("p", partner_id)] = partner_name
        else:
            providers[category][("v", volunteer_id)] = volunteer_name
    volunteers = Volunteer.objects.serving().filter(grid_path__startswith=community.path)
    for category in CRITICAL_CATEGORIES:
        skills = SKILLS_FOR_CATEGORY[category]
        if not skills:
            continue
        condition = Q(pk__in=[])
        for skill in skills:
            condition |= Q(skills__contains=f"{CODE_SEPARATOR}{skill}{CODE_SEPARATOR}")
        for vid, name in volunteers.filter(condition).values_list("id", "name"):
            providers[category][("v", vid)] = name
    rows = []
    for category in CRITICAL_CATEGORIES:
        names = sorted(providers[category].values())
        count = len(names)
        rows.append(
            {
                "category": category,
                "label": ServiceCategory(category).label,
                "count": count,
                "providers": names,
                "flag": "none" if count == 0 else "single" if count == 1 else "ok",
            }
        )
    return rows
