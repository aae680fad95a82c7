"""Small but complete synthetic communities for the evidence that the resilience index means
something (test_monotonicity.py, bench/resilience_correlation.py).

`community_build(knobs=..., code=...)` writes one community with everything the indicators
read: the registry (micro-grids, building groups, buildings with coordinates, households,
residents with vulnerability tags and logins), the posts (building-group leaders, branch
secretaries and social-worker leads), visits, cases (closed on time or late, escalated,
rated), volunteers in teams with skills and home buildings, partner units with agreements,
resources, claimed and delivered needs and a completed project, emergency supplies,
activities with check-ins, a deliberation topic with opinions from several stakeholder
groups, survey responses, the co-participation ties, and a welfare-check plan for drills.

Rows go through the real services where they can (the services stamp "now"); what must
lie in the past is moved back afterwards with a plain UPDATE (visits take their time
directly; cases, needs, claims and opinions are back-dated), as the demo generator does.
Two kinds of row are inserted directly: residents with their logins and resident posts
(in bulk, as `resident_create` writes them: one call each cost a second per hundred), and
the checked-in sign-ups of past activity dates (the sign-up service refuses a date that
is over). A 60-household community builds in about 1 s on SQLite.

Each knob feeds one dimension only, and every section draws from its own random stream
(seeded by the seed and the section's name), so turning one knob leaves every row the
other dimensions read exactly as it was — the monotonicity suite depends on that:

- structural: `leaders_share` (building groups whose leader post is held),
  `micro_grid_staff` (a branch secretary and a social-worker lead on every micro-grid),
  `visit_share` / `vulnerable_visit_share` (households visited in the last 30 / 14 days),
  `cases_on_time_share`, `escalations_resolved`;
- capacity: `volunteers`, `care_team_share`, `care_team_target`, `team_target`, `skills`,
  `providers_per_category`, `agreements_active`, `needs_fulfilled_share`,
  `supplies_ok_share`;
- cultural: `participation_share`, `repeat_share`, `stakeholder_groups`,
  `survey_share`, `survey_mean`, `satisfaction`.

Who does what is fixed so that no knob leaks into another dimension: a building-group leader
records the visits of their group when the post is held (the micro-grid's branch secretary
otherwise), cases are handled by the branch secretary, volunteers are outside volunteers
(not residents, so they never count as residents taking part), and needs are claimed by the
first partner unit (which exists whatever `providers_per_category` is).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.privacy import id_number_fields
from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, CaseSource
from linli.cases.services import case_create, case_escalate, case_from_visit, case_transition
from linli.emergency.models import Plan, TaskTemplate
from linli.grids.models import (
    Building,
    GridUnit,
    Household,
    Resident,
    ResidentAccount,
    RoleAssignment,
    Visit,
    VisitMethod,
)
from linli.grids.services import (
    building_create,
    grid_unit_create,
    household_create,
    role_assign,
    visit_record,
)
from linli.participation.activities.services import activity_create, occurrence_close
from linli.participation.deliberation.models import Opinion, StakeholderGroup
from linli.participation.deliberation.services import (
    opinion_post,
    round_open,
    stakeholder_membership_add,
    topic_create,
    topic_transition,
)
from linli.participation.models import (
    CheckInMethod,
    Occurrence,
    SignUp,
    SignUpStatus,
)
from linli.participation.surveys.models import Survey
from linli.participation.surveys.services import survey_copy_template, survey_open, survey_respond
from linli.participation.ties.services import ties_rebuild
from linli.partners.models import CRITICAL_CATEGORIES, Claim, Need
from linli.partners.services import (
    agreement_add,
    claim_need,
    claim_transition,
    milestone_done,
    need_create,
    partner_create,
    project_create,
    resource_offer,
)
from linli.supplies.services import stock_location_create, supply_item_create
from linli.testing.builders import with_check_character
from linli.volunteers.models import ServiceKind, Skill
from linli.volunteers.services import (
    team_create,
    team_member_add,
    volunteer_review,
    volunteer_signup,
)

# Tags a welfare check targets (the plan below) and the mix of the registry's vulnerable.
WELFARE_TAGS = ("elderly_alone", "disabled", "serious_illness", "empty_nest")
OTHER_TAGS = ("low_income", "pregnant")
# The skills the generated volunteers draw from, in the order they are handed out: the
# first ones are what the teams require (the "critical" skills of the capacity indicators).
ALL_SKILLS = (
    Skill.ELDER_CARE,
    Skill.FIRST_AID,
    Skill.MEDICAL,
    Skill.NURSING,
    Skill.LOGISTICS,
    Skill.DRIVING,
    Skill.REPAIR,
    Skill.IT,
    Skill.LANGUAGE,
    Skill.PSYCHOLOGICAL,
    Skill.PUBLICITY,
    Skill.CHILD_CARE,
)
# (kind, name, required skills); the care team does the welfare checks of a drill.
TEAMS = (
    (ServiceKind.CARE, "关爱帮扶", (Skill.ELDER_CARE, Skill.PSYCHOLOGICAL)),
    (ServiceKind.EMERGENCY_RESPONSE, "应急处置", (Skill.FIRST_AID, Skill.DRIVING)),
    (ServiceKind.MEDICAL_SUPPORT, "医疗保障", (Skill.MEDICAL, Skill.NURSING)),
    (ServiceKind.SUPPLIES, "物资保障", (Skill.LOGISTICS,)),
    (ServiceKind.PATROL, "环境巡查", (Skill.REPAIR,)),
    (ServiceKind.LIAISON, "信息联络", (Skill.IT, Skill.LANGUAGE)),
    (ServiceKind.PUBLICITY, "宣传动员", (Skill.PUBLICITY,)),
)
# Case categories with a time limit (seeded by linli/cases/migrations/0002).
CASE_CATEGORIES = ("SAF-01", "ENV-03", "HOU-02", "NEI-01")
# Stakeholder groups of the deliberation topic, residents first.
GROUPS = (
    StakeholderGroup.RESIDENT,
    StakeholderGroup.DEPUTY,
    StakeholderGroup.ENTERPRISE,
    StakeholderGroup.PROPERTY,
    StakeholderGroup.SOCIAL_ORG,
    StakeholderGroup.PARTY_MEMBER,
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "桂英建国秀兰志强丽华国强淑珍文明海燕春梅德华玉兰建华永红"
# The community's corner (Jing'an, Shanghai); buildings 40 m apart on a grid.
ORIGIN = (31.2700, 121.4500)
STEP_DEGREES = 0.00036


@dataclass(frozen=True)
class Knobs:
    """The shape of a generated community and how strong each part of it is."""

    micro_grids: int = 2
    groups_per_micro_grid: int = 3
    buildings_per_group: int = 2
    households_per_building: int = 5
    # Share of households with a vulnerable member (most of them welfare-check targets).
    vulnerable_share: float = 0.4
    # Structural.
    leaders_share: float = 1.0
    micro_grid_staff: bool = True
    visit_share: float = 0.9
    vulnerable_visit_share: float = 1.0
    cases: int = 10
    cases_on_time_share: float = 0.8
    escalations_resolved: bool = True
    # Capacity.
    volunteers: int = 18
    # Share of the volunteers placed in the care team (up to its target; the rest fill the
    # other teams up to theirs).
    care_team_share: float = 0.5
    care_team_target: int = 10
    team_target: int = 2
    # How many of ALL_SKILLS the volunteers cover between them.
    skills: int = len(ALL_SKILLS)
    providers_per_category: int = 2
    agreements_active: bool = True
    needs: int = 8
    needs_fulfilled_share: float = 0.75
    supplies_ok_share: float = 1.0
    # Cultural.
    participation_share: float = 0.6
    repeat_share: float = 0.5
    stakeholder_groups: int = 4
    survey_share: float = 0.4
    # Mean Likert answer (1–5) of the survey responses.
    survey_mean: float = 4.0
    # Satisfaction (1–5) residents give their closed cases.
    satisfaction: int = 5
    # The drill plan (read by no indicator): welfare checks one volunteer takes at most.
    tasks_per_volunteer: int = 5

    @property
    def households(self) -> int:
        return (
            self.micro_grids
            * self.groups_per_micro_grid
            * self.buildings_per_group
            * self.households_per_building
        )


# The weakened variants of the monotonicity suite: each changes knobs of one dimension only.
WEAK_STRUCTURE = {
    "leaders_share": 1 / 3,
    "micro_grid_staff": False,
    "visit_share": 0.0,
    "vulnerable_visit_share": 0.0,
}
WEAK_CAPACITY = {"volunteers": 2, "providers_per_category": 1, "skills": 2}
WEAK_CULTURE = {
    "participation_share": 0.0,
    "repeat_share": 0.0,
    "stakeholder_groups": 0,
    "survey_share": 0.0,
}


def weakened(knobs: Knobs, changes: dict) -> Knobs:
    return replace(knobs, **changes)


@dataclass
class Community:
    unit: GridUnit
    knobs: Knobs
    secretary: User
    micro_grids: list[GridUnit]
    groups: list[GridUnit]
    buildings: list[Building]
    households: list[Household]
    residents: list[Resident]
    plan: Plan | None
    # Building-group path → its leader (the groups whose post is held).
    leaders: dict[str, User]
    # Every back-dated row lies before this moment; compute the index with end >= it.
    reference: datetime
    counts: dict[str, int] = field(default_factory=dict)


def _stream(seed: int, section: str) -> random.Random:
    return random.Random(f"linli-synthetic:{seed}:{section}")


def generated_user(username: str) -> User:
    # No password: nobody logs in as a generated user (and hashing would cost seconds).
    user = User(username=username, display_name=username)
    user.set_unusable_password()
    user.save()
    return user


def _id_number(serial: int, birth_year: int, male: bool) -> str:
    """A valid GB 11643 number, different for every serial below 182,500 (the day of the
    year and the sequence number come from the serial; the 17th digit is odd for men)."""
    born = datetime(birth_year, 1, 1) + timedelta(days=(serial // 500) % 365)
    sequence = (serial % 500) * 2 + (1 if male else 0)
    return with_check_character(f"110101{born:%Y%m%d}{sequence:03d}")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _take(rng: random.Random, items: list, share: float) -> list:
    """round(share × n) of the items, chosen by `rng` (same choice for the same share)."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    return shuffled[: round(share * len(items))]


def community_build(
    *,
    knobs: Knobs | None = None,
    code: str = "SYN",
    seed: int = 1,
    parent: GridUnit | None = None,
    plan: bool = True,
    ties: bool = True,
) -> Community:
    """Generate one community under `parent` (a block; a street and block of its own
    otherwise). `code` must be unique in the database (it prefixes every grid code and
    username)."""
    knobs = knobs or Knobs()
    reference = timezone.now() - timedelta(minutes=1)
    if parent is None:
        street = grid_unit_create(level="street", code=f"{code}S", name=f"{code}街道", parent=None)
        parent = grid_unit_create(level="block", code=f"{code}B", name=f"{code}街区", parent=street)
    unit = grid_unit_create(level="community", code=code, name=f"{code}社区", parent=parent)
    secretary = generated_user(f"{code}-secretary")
    role_assign(user=secretary, role=Role.SECRETARY, grid_unit=unit, post="party_secretary")
    community = Community(
        unit=unit,
        knobs=knobs,
        secretary=secretary,
        micro_grids=[],
        groups=[],
        buildings=[],
        households=[],
        residents=[],
        plan=None,
        leaders={},
        reference=reference,
    )
    _registry(community, code, seed)
    branch_secretaries = _posts(community, code, seed)
    _visits(community, branch_secretaries, seed)
    _cases(community, branch_secretaries, seed)
    volunteers = _volunteers(community, code, seed)
    _partners(community, code, seed)
    _supplies(community, seed)
    _participation(community, code, seed)
    if plan:
        community.plan = _plan(community)
    if ties:
        ties_rebuild(unit=unit, now=reference)
    community.counts["volunteers"] = len(volunteers)
    return community


# --- Registry -----------------------------------------------------------------------------


def _registry(community: Community, code: str, seed: int) -> None:
    knobs = community.knobs
    rng = _stream(seed, "registry")
    serial = Resident.objects.count() + 1
    row = 0
    for m in range(knobs.micro_grids):
        micro = grid_unit_create(
            level="micro_grid",
            code=f"{code}M{m + 1}",
            name=f"第{m + 1}微网格",
            parent=community.unit,
        )
        community.micro_grids.append(micro)
        for g in range(knobs.groups_per_micro_grid):
            group = grid_unit_create(
                level="building_group",
                code=f"{code}M{m + 1}G{g + 1}",
                name=f"{m + 1}-{g + 1}楼组",
                parent=micro,
            )
            community.groups.append(group)
            for b in range(knobs.buildings_per_group):
                building = building_create(
                    grid_unit=group, name=f"{len(community.buildings) + 1}号楼", floors=6
                )
                # Buildings on a grid 40 m apart, one row of buildings per building group.
                Building.objects.filter(pk=building.pk).update(
                    latitude=Decimal(f"{ORIGIN[0] + row * STEP_DEGREES:.6f}"),
                    longitude=Decimal(f"{ORIGIN[1] + b * STEP_DEGREES:.6f}"),
                )
                building.refresh_from_db()
                community.buildings.append(building)
                for h in range(knobs.households_per_building):
                    household = household_create(
                        building=building, room=f"{h // 2 + 1}0{h % 2 + 1}"
                    )
                    community.households.append(household)
            row += 1
    vulnerable = set(_take(rng, range(len(community.households)), knobs.vulnerable_share))
    # Residents, their logins and their resident posts in bulk: resident_create validates
    # and audits one row at a time (a second per hundred residents), and what it writes is
    # exactly these rows — the ID number in its three stored forms, as the bench loaders do.
    users, residents, posts = [], [], []
    for index, household in enumerate(community.households):
        size = rng.choice((1, 2, 2, 3))
        for person in range(size):
            tags = []
            if index in vulnerable and person == 0:
                tags = [rng.choice(WELFARE_TAGS) if rng.random() < 0.85 else rng.choice(OTHER_TAGS)]
            male = rng.random() < 0.5
            birth_year = rng.randint(1940, 1960) if tags else rng.randint(1965, 2005)
            user = User(username=f"{code}-r{serial}", display_name=f"{code}-r{serial}")
            user.set_unusable_password()
            users.append(user)
            residents.append(
                Resident(
                    household=household,
                    grid_path=household.grid_path,
                    name=_name(rng),
                    sex="male" if male else "female",
                    birth_year=birth_year,
                    phone=f"139{serial:08d}",
                    **id_number_fields(_id_number(serial, birth_year, male)),
                    vulnerability_tags=Resident.encode_tags(tags),
                )
            )
            serial += 1
    User.objects.bulk_create(users)
    Resident.objects.bulk_create(residents)
    groups = {building.pk: building.grid_unit_id for building in community.buildings}
    paths = {group.pk: group.path for group in community.groups}
    ResidentAccount.objects.bulk_create(
        ResidentAccount(resident=resident, user=user)
        for resident, user in zip(residents, users, strict=True)
    )
    for resident, user in zip(residents, users, strict=True):
        group_id = groups[resident.household.building_id]
        # A resident's post on their building group makes them a member of the community
        # (deliberation, surveys), as it does for a resident who signs up.
        posts.append(
            RoleAssignment(
                user=user,
                role=Role.RESIDENT,
                post="resident",
                grid_unit_id=group_id,
                grid_path=paths[group_id],
            )
        )
        resident.login = user
    RoleAssignment.objects.bulk_create(posts)
    community.residents = residents
    community.counts["households"] = len(community.households)
    community.counts["residents"] = len(community.residents)
    community.counts["vulnerable_residents"] = sum(
        1 for resident in community.residents if resident.vulnerability_tags
    )


# --- Structural ---------------------------------------------------------------------------


def _posts(community: Community, code: str, seed: int) -> dict[str, User]:
    """Branch secretaries always (they record visits and handle cases); social-worker leads
    with `micro_grid_staff`; building-group leaders on `leaders_share` of the groups."""
    knobs = community.knobs
    rng = _stream(seed, "posts")
    branch_secretaries = {}
    for index, micro in enumerate(community.micro_grids):
        lead = generated_user(f"{code}-branch{index + 1}")
        # Without `micro_grid_staff` the micro-grid lead holds no post of the pair: a
        # micro-grid head, who may do the same work.
        post = "branch_secretary" if knobs.micro_grid_staff else "micro_grid_head"
        role_assign(user=lead, role=Role.MICRO_GRID_LEAD, grid_unit=micro, post=post)
        branch_secretaries[micro.path] = lead
        if knobs.micro_grid_staff:
            worker = generated_user(f"{code}-social{index + 1}")
            role_assign(
                user=worker, role=Role.MICRO_GRID_LEAD, grid_unit=micro, post="social_worker_lead"
            )
    led = _take(rng, community.groups, knobs.leaders_share)
    for group in sorted(led, key=lambda unit: unit.path):
        leader = generated_user(f"{code}-leader-{group.code}")
        role_assign(
            user=leader,
            role=Role.BUILDING_GROUP_LEADER,
            grid_unit=group,
            post="building_group_head",
        )
        community.leaders[group.path] = leader
    community.counts["leaders"] = len(led)
    return branch_secretaries


def _lead_of(path: str, branch_secretaries: dict[str, User]) -> User:
    return next(user for prefix, user in branch_secretaries.items() if path.startswith(prefix))


def _visits(community: Community, branch_secretaries: dict[str, User], seed: int) -> None:
    """Routine visits: `vulnerable_visit_share` of the vulnerable households in the last 14
    days, `visit_share` of the others in the last 30; the rest were last visited 40–80
    days ago. Visits that found a problem (and the cases they became) are `_cases`'."""
    knobs = community.knobs
    rng = _stream(seed, "visits")
    vulnerable_ids = {resident.household_id for resident in community.residents if resident.tags}
    vulnerable = [h for h in community.households if h.pk in vulnerable_ids]
    others = [h for h in community.households if h.pk not in vulnerable_ids]
    recent = set(_take(rng, vulnerable, knobs.vulnerable_visit_share))
    recent |= set(_take(rng, others, knobs.visit_share))
    for household in community.households:
        visitor = community.leaders.get(household.grid_path) or _lead_of(
            household.grid_path, branch_secretaries
        )
        if household in recent:
            limit = 12 if household.pk in vulnerable_ids else 28
            days = rng.uniform(0.5, limit)
        else:
            days = rng.uniform(40, 80)
        visit_record(
            visitor=visitor,
            household=household,
            method=rng.choice(VisitMethod.values),
            mood="good",
            visited_at=community.reference - timedelta(days=days),
        )
    community.counts["visited_30d"] = len(recent)


def _cases(community: Community, branch_secretaries: dict[str, User], seed: int) -> None:
    """`cases` cases filed 3–55 days ago: every other one from a branch secretary's visit
    finding, the rest reported by a resident (who rates it `satisfaction` once closed);
    `cases_on_time_share` run inside their time limit, the last but one is escalated (and
    resolved with `escalations_resolved`), the last is still open. The branch secretary
    handles them all, so the building-group leaders' posts change nothing here."""
    knobs = community.knobs
    rng = _stream(seed, "cases")
    categories = {
        category.code: category
        for category in CaseCategory.objects.filter(code__in=CASE_CATEGORIES)
    }
    reporters = [resident for resident in community.residents if not resident.tags]
    late = set(_take(rng, range(knobs.cases), 1 - knobs.cases_on_time_share))
    for index in range(knobs.cases):
        reporter = rng.choice(reporters)
        household = next(h for h in community.households if h.pk == reporter.household_id)
        lead = _lead_of(household.grid_path, branch_secretaries)
        category = categories[CASE_CATEGORIES[index % len(CASE_CATEGORIES)]]
        filed_at = community.reference - timedelta(days=rng.uniform(3, 55))
        if index % 2 == 0:
            # A finding on a visit, turned into a case some hours later. The visit is in
            # the past beyond any 30-day window unless the case is recent.
            found_at = filed_at - timedelta(hours=rng.uniform(2, 30))
            visit = visit_record(
                visitor=lead,
                household=household,
                method=VisitMethod.DOOR,
                finding="楼道堆物，需要清理",
                needs_follow_up=True,
                visited_at=found_at,
            )
            case = case_from_visit(actor=lead, visit=visit, category=category)
            Visit.objects.filter(pk=visit.pk).update(created_at=found_at)
        else:
            case = case_create(
                reporter=reporter.login,
                category=category,
                description="楼道灯坏了",
                source=CaseSource.RESIDENT_REPORT,
                building=household.building,
            )
        open_case = index == knobs.cases - 1
        escalated = index == knobs.cases - 2
        case = case_transition(case=case, actor=lead, action="accept")
        case = case_transition(case=case, actor=lead, action="dispatch", owner_user=lead)
        case = case_transition(case=case, actor=lead, action="start")
        if escalated:
            case = case_escalate(case=case, actor=lead, reason="需要物业协调")
            if not knobs.escalations_resolved:
                _backdate_case(rng, case, filed_at, late=True)
                continue
        if open_case:
            _backdate_case(rng, case, filed_at, late=False)
            continue
        case = case_transition(
            case=case, actor=community.secretary, action="resolve", note="已处置"
        )
        case = case_transition(case=case, actor=community.secretary, action="verify")
        case = case_transition(case=case, actor=community.secretary, action="close")
        if case.reporter_resident_id:
            case = case_transition(
                case=case, actor=reporter.login, action="rate", satisfaction=knobs.satisfaction
            )
        _backdate_case(rng, case, filed_at, late=index in late)
    community.counts["cases"] = knobs.cases


def _backdate_case(rng: random.Random, case: Case, filed_at: datetime, late: bool) -> None:
    """Move the case's steps back to start at `filed_at`, spread over less (on time) or more
    (late) than the category's time limit."""
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    limit = timedelta(hours=case.category.sla_hours)
    total = limit * (rng.uniform(1.3, 2.0) if late else rng.uniform(0.3, 0.8))
    stamps = [filed_at + total * step / max(1, len(events) - 1) for step in range(len(events))]
    for event, stamp in zip(events, stamps, strict=True):
        CaseEvent.objects.filter(pk=event.pk).update(created_at=stamp)
    at = {event.action: stamp for event, stamp in zip(events, stamps, strict=True)}
    shift = filed_at - case.created_at
    Case.objects.filter(pk=case.pk).update(
        created_at=filed_at,
        original_due_at=filed_at + limit,
        due_at=F("due_at") + shift,
        accepted_at=at.get("accept"),
        resolved_at=at.get("resolve"),
        closed_at=at.get("close"),
    )


# --- Capacity -----------------------------------------------------------------------------


def _volunteers(community: Community, code: str, seed: int) -> list:
    """`volunteers` outside volunteers (not residents), living in the community's buildings,
    with skills from the first `skills` of ALL_SKILLS; `care_team_share` of them in the care
    team, the rest spread over the other teams, each team's target `team_target`."""
    knobs = community.knobs
    rng = _stream(seed, "volunteers")
    secretary = community.secretary
    teams = [
        team_create(
            actor=secretary,
            community=community.unit,
            kind=kind,
            name=name,
            target_size=knobs.care_team_target if kind == ServiceKind.CARE else knobs.team_target,
            required_skills=skills,
        )
        for kind, name, skills in TEAMS
    ]
    skills = list(ALL_SKILLS[: knobs.skills])
    care = min(round(knobs.care_team_share * knobs.volunteers), knobs.care_team_target)
    volunteers = []
    for index in range(knobs.volunteers):
        # Each volunteer has two skills; together they cover the first `skills` in order.
        own = (
            sorted({skills[(2 * index) % len(skills)], skills[(2 * index + 1) % len(skills)]})
            if skills
            else []
        )
        volunteer = volunteer_signup(
            actor=secretary,
            grid_unit=community.unit,
            name=f"志愿者{index + 1}",
            work_unit="共建单位",
            skills=own,
            willingness=[ServiceKind.CARE],
            availability=["mon_am", "sat_pm"],
            home_building=rng.choice(community.buildings),
            user=generated_user(f"{code}-volunteer{index + 1}"),
        )
        volunteer = volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
        volunteers.append(volunteer)
    others = teams[1:]
    for index, volunteer in enumerate(volunteers):
        if index < care:
            team_member_add(actor=secretary, team=teams[0], volunteer=volunteer)
        else:
            team = others[(index - care) % len(others)]
            if team.memberships.count() < team.target_size:
                team_member_add(actor=secretary, team=team, volunteer=volunteer)
    return volunteers


def _partners(community: Community, code: str, seed: int) -> None:
    """`providers_per_category` partner units (at least one) offering every critical
    category, each under an agreement (active with `agreements_active`); `needs` needs of
    vulnerable households, `needs_fulfilled_share` of them claimed by the first unit,
    delivered and confirmed within days; one completed project."""
    knobs = community.knobs
    rng = _stream(seed, "partners")
    secretary = community.secretary
    today = timezone.localdate(community.reference)
    partners = []
    for index in range(max(1, knobs.providers_per_category)):
        partner = partner_create(
            actor=secretary,
            community=community.unit,
            name=f"共建单位{index + 1}",
            partner_type="enterprise" if index % 2 == 0 else "social_organisation",
        )
        if knobs.agreements_active:
            agreement_add(
                actor=secretary,
                partner=partner,
                title="共建协议",
                starts_on=today - timedelta(days=200),
                ends_on=today + timedelta(days=165),
            )
        else:
            agreement_add(
                actor=secretary,
                partner=partner,
                title="共建协议（已到期）",
                starts_on=today - timedelta(days=400),
                ends_on=today - timedelta(days=35),
            )
        partners.append(partner)
    resources = {}
    for partner in partners:
        for category in CRITICAL_CATEGORIES:
            if not knobs.agreements_active:
                continue  # an expired agreement takes no new offers
            resources[(partner.pk, category)] = resource_offer(
                actor=secretary,
                partner=partner,
                kind="people",
                category=category,
                title=f"{partner.name}：{category}",
            )
    first = partners[0]
    vulnerable = [resident for resident in community.residents if resident.tags]
    beneficiaries = [rng.choice(vulnerable) for _ in range(knobs.needs)]
    fulfilled = set(_take(rng, range(knobs.needs), knobs.needs_fulfilled_share))
    for index, beneficiary in enumerate(beneficiaries):
        need = need_create(
            actor=secretary,
            category=CRITICAL_CATEGORIES[index % len(CRITICAL_CATEGORIES)],
            title="上门帮助",
            beneficiary=beneficiary,
        )
        created_at = community.reference - timedelta(days=rng.uniform(10, 50))
        Need.objects.filter(pk=need.pk).update(created_at=created_at)
        if index not in fulfilled or not knobs.agreements_active:
            continue
        claim = claim_need(actor=secretary, need=need, partner=first)
        claim = claim_transition(claim=claim, actor=secretary, action="start")
        claim = claim_transition(claim=claim, actor=secretary, action="deliver")
        claim = claim_transition(claim=claim, actor=beneficiary.login, action="confirm")
        delivered_at = created_at + timedelta(days=rng.uniform(0.5, 4))
        Claim.objects.filter(pk=claim.pk).update(
            created_at=created_at + timedelta(hours=2),
            delivered_at=delivered_at,
            confirmed_at=delivered_at + timedelta(hours=3),
        )
        if index == 0:
            project = project_create(
                actor=secretary,
                need=need,
                resource=resources[(first.pk, need.category)],
                title="助老上门服务",
                owner=secretary,
                starts_on=today - timedelta(days=40),
                ends_on=today - timedelta(days=5),
                milestones=[("完成上门服务", today - timedelta(days=10))],
            )
            for milestone in project.milestones.all():
                milestone_done(actor=secretary, milestone=milestone, on=today - timedelta(days=9))
    community.counts["partners"] = len(partners)


def _supplies(community: Community, seed: int) -> None:
    """Eight kinds of supplies in the shared space; `supplies_ok_share` at or above their
    minimum, the rest below it."""
    knobs = community.knobs
    rng = _stream(seed, "supplies")
    location = stock_location_create(
        actor=community.secretary, grid_unit=community.unit, name="共享客厅"
    )
    kinds = [
        ("医用口罩", "hygiene", "盒"),
        ("消毒液", "hygiene", "瓶"),
        ("急救包", "medical", "个"),
        ("应急手电", "power", "把"),
        ("瓶装水", "food", "箱"),
        ("方便食品", "food", "箱"),
        ("雨衣", "other", "件"),
        ("沙袋", "other", "个"),
    ]
    ok = set(_take(rng, range(len(kinds)), knobs.supplies_ok_share))
    for index, (name, category, unit) in enumerate(kinds):
        minimum = rng.randint(5, 20)
        supply_item_create(
            actor=community.secretary,
            location=location,
            name=name,
            category=category,
            unit=unit,
            minimum_level=minimum,
            quantity=minimum + rng.randint(0, 10) if index in ok else rng.randint(0, minimum - 1),
        )


# --- Cultural -----------------------------------------------------------------------------


def _participation(community: Community, code: str, seed: int) -> None:
    """Six activity dates in the last 80 days (community and micro-grid), attended by
    `participation_share` of the residents, `repeat_share` of them more than once; a
    deliberation topic with opinions from `stakeholder_groups` groups (residents among
    them); survey answers from `survey_share` of the residents."""
    knobs = community.knobs
    rng = _stream(seed, "participation")
    secretary = community.secretary
    occurrences = []
    for index in range(6):
        organiser = (
            community.unit
            if index % 2 == 0
            else community.micro_grids[index % len(community.micro_grids)]
        )
        starts = community.reference - timedelta(days=10 + 12 * index, hours=3)
        activity = activity_create(
            actor=secretary,
            organiser=organiser,
            kind="action_day",
            title=f"周四行动日{index + 1}",
            capacity=200,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
        )
        occurrences.extend(Occurrence.objects.filter(activity=activity))
    participants = _take(rng, community.residents, knobs.participation_share)
    repeaters = set(_take(rng, range(len(participants)), knobs.repeat_share))
    sign_ups = []
    for index, resident in enumerate(participants):
        times = rng.randint(2, 4) if index in repeaters else 1
        for occurrence in rng.sample(occurrences, times):
            # Sign-ups of the past cannot go through the service (it refuses an occurrence
            # that is over): the checked-in row as the organiser's tick would leave it.
            sign_ups.append(
                SignUp(
                    occurrence=occurrence,
                    user=resident.login,
                    grid_path=occurrence.grid_path,
                    status=SignUpStatus.CONFIRMED,
                    checked_in_at=occurrence.starts_at + timedelta(minutes=5),
                    check_in_method=CheckInMethod.ORGANISER,
                    checked_in_by=secretary,
                )
            )
    SignUp.objects.bulk_create(sign_ups)
    SignUp.objects.filter(occurrence__in=occurrences).update(
        created_at=F("checked_in_at") - timedelta(days=2)
    )
    for occurrence in occurrences:
        occurrence_close(occurrence=occurrence, actor=secretary)
    Occurrence.objects.filter(pk__in=[o.pk for o in occurrences]).update(closed_at=F("ends_at"))
    community.counts["participants"] = len(participants)

    groups = list(GROUPS[: knobs.stakeholder_groups])
    topic = topic_create(
        actor=secretary,
        community=community.unit,
        title="增设公交站点",
        description="老人出行不便，请各方商议。",
        invited_groups=[str(group) for group in GROUPS],
    )
    topic = topic_transition(actor=secretary, topic=topic, action="open")
    round_open(actor=secretary, topic=topic)
    posted = []
    for group in groups:
        if group == StakeholderGroup.RESIDENT:
            speakers = [resident.login for resident in rng.sample(community.residents, 3)]
        else:
            speaker = generated_user(f"{code}-{group}")
            # An outside stakeholder belongs to the community through a liaison post.
            role_assign(
                user=speaker,
                role=Role.PARTNER_LIAISON,
                grid_unit=community.unit,
                post="partner_liaison",
            )
            stakeholder_membership_add(
                actor=secretary, user=speaker, group=group, community=community.unit
            )
            speakers = [speaker]
        for speaker in speakers:
            posted.append(
                opinion_post(actor=speaker, topic=topic, body="支持设站。", group=group).pk
            )
    Opinion.objects.filter(pk__in=posted).update(created_at=community.reference - timedelta(days=5))
    community.counts["opinion_groups"] = len(groups)

    template = Survey.objects.filter(is_template=True).order_by("id").first()
    survey = survey_copy_template(actor=secretary, template=template, community=community.unit)
    survey_open(actor=secretary, survey=survey)
    items = list(survey.items.all())
    respondents = _take(rng, community.residents, knobs.survey_share)
    low, high = max(1, int(knobs.survey_mean)), min(5, int(knobs.survey_mean) + 1)
    for resident in respondents:
        answers = {item.pk: rng.choice((low, high)) if low != high else low for item in items}
        survey_respond(actor=resident.login, survey=survey, answers=answers)
    community.counts["survey_responses"] = len(respondents)


# --- Emergency ----------------------------------------------------------------------------


def _plan(community: Community) -> Plan:
    """A typhoon plan whose welfare checks (care team, within 2 hours) target
    WELFARE_TAGS; each volunteer takes at most `tasks_per_volunteer` of them, so a care
    team too small for the targeted households leaves some without a volunteer."""
    plan = Plan.objects.create(
        grid_unit=community.unit,
        grid_path=community.unit.path,
        hazard="typhoon",
        name=f"{community.unit.name}防台防汛预案",
        movement_rule="community",
        volunteer_capacity=community.knobs.tasks_per_volunteer,
        acknowledge_minutes=15,
        retry_minutes=30,
        max_attempts=3,
    )
    TaskTemplate.objects.create(
        plan=plan,
        kind="welfare_check",
        title="重点人群安全确认",
        target_tags="," + ",".join(WELFARE_TAGS) + ",",
        due_hours=2,
        required_team=ServiceKind.CARE,
        lowest_grade=4,
        sort_order=1,
    )
    return plan


# --- Statistics of the evidence -----------------------------------------------------------


def average_ranks(values: list[float]) -> list[float]:
    """Ranks 1..n of `values` (ascending); tied values share the mean of the ranks they
    span, e.g. [10, 20, 20, 30] → [1, 2.5, 2.5, 4]."""
    order = sorted(range(len(values)), key=lambda index: values[index])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        # Positions start..end (0-based) hold ranks start+1..end+1: their mean.
        shared = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = shared
        start = end + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rank correlation: Pearson's correlation of the average ranks (the form
    that stays exact with ties, unlike 1 − 6Σd²/(n(n²−1))). None when either side is
    constant (no ranking to correlate) or there are fewer than two pairs."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two lists of the same length")
    if len(xs) < 2:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mean = (len(xs) + 1) / 2  # the mean of ranks 1..n, ties or not
    covariance = sum((a - mean) * (b - mean) for a, b in zip(rx, ry, strict=True))
    spread_x = sum((a - mean) ** 2 for a in rx)
    spread_y = sum((b - mean) ** 2 for b in ry)
    if spread_x == 0 or spread_y == 0:
        return None
    return covariance / (spread_x * spread_y) ** 0.5
