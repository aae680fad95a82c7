"""The case-study community's resources for the demo: volunteers sorted into the seven
functional teams, the partner units the case study names, their resources, residents' needs
from the visits, a few claims, and the shared space's emergency supplies.

Everything goes through the real services (sign-up, review, the team recommendation,
partner registry, claiming, stock movements). Written once: a community that already has
volunteers gets nothing more.
"""

from __future__ import annotations

import random
from datetime import timedelta

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.grids.models import GridUnit, Resident, RoleAssignment, Visit
from linli.partners.services import (
    agreement_add,
    claim_need,
    claim_transition,
    liaison_link,
    need_from_visit,
    partner_create,
    resource_offer,
)
from linli.supplies.services import stock_location_create, supply_item_create
from linli.volunteers.models import SLOTS, ServiceKind, Skill, Volunteer
from linli.volunteers.services import (
    recommendation_accept,
    recommendation_create,
    teams_create_defaults,
    volunteer_review,
    volunteer_signup,
)

VOLUNTEER_COUNT = 80

# The units the case study names, and what each offers (kind, category, title).
PARTNERS = [
    (
        "乔法官工作室",
        "court",
        "每月一次法律咨询、邻里纠纷调解",
        [("professional", "legal", "每月法律咨询（社区共享客厅）")],
    ),
    (
        "高校专家团队",
        "university",
        "社区规划、心理疏导讲座",
        [("professional", "psychological", "心理疏导讲座")],
    ),
    (
        "社区卫生服务中心",
        "hospital",
        "测血压、测血糖、家庭医生签约",
        [("professional", "medical", "便民集市测血压血糖"), ("people", "medical", "家庭医生上门")],
    ),
    (
        "共建物业公司",
        "enterprise",
        "公共设施维修、应急抢修",
        [("people", "repair", "公共设施维修"), ("material", "shelter", "应急安置帐篷")],
    ),
    (
        "周边超市",
        "business",
        "平价生鲜、应急食品和饮用水",
        [("material", "food", "应急食品包"), ("material", "water", "瓶装饮用水")],
    ),
]

# What the shared space's medical box and store hold (name, category, unit, minimum, stock).
SUPPLIES = [
    ("医用口罩", "hygiene", "盒", 20, 35),
    ("消毒液", "hygiene", "瓶", 10, 6),
    ("急救包", "medical", "个", 5, 8),
    ("应急手电", "power", "把", 10, 12),
    ("瓶装水", "water", "箱", 20, 24),
]

SKILL_WEIGHTS = [
    (Skill.ELDER_CARE, 6),
    (Skill.LOGISTICS, 5),
    (Skill.PUBLICITY, 4),
    (Skill.REPAIR, 3),
    (Skill.DRIVING, 3),
    (Skill.IT, 3),
    (Skill.MEDICAL, 2),
    (Skill.NURSING, 2),
    (Skill.FIRST_AID, 3),
    (Skill.LANGUAGE, 3),
    (Skill.CHILD_CARE, 2),
    (Skill.LEGAL, 1),
    (Skill.PSYCHOLOGICAL, 1),
    (Skill.COOKING, 3),
]


def _pick(rng: random.Random, weighted, count: int) -> list[str]:
    chosen: list[str] = []
    values, weights = [value for value, _w in weighted], [weight for _v, weight in weighted]
    while len(chosen) < count:
        value = rng.choices(values, weights)[0]
        if value not in chosen:
            chosen.append(value)
    return chosen


def _volunteers(rng: random.Random, community: GridUnit, secretary: User) -> int:
    # Adults under 75: the people a functional team can count on.
    year = clock.localdate().year
    residents = list(
        Resident.objects.filter(
            grid_path__startswith=community.path, birth_year__range=(year - 75, year - 18)
        ).order_by("id")
    )
    picked = rng.sample(residents, min(VOLUNTEER_COUNT, len(residents)))
    kinds = ServiceKind.values
    count = 0
    for resident in picked:
        volunteer = volunteer_signup(
            actor=secretary,
            resident=resident,
            skills=_pick(rng, SKILL_WEIGHTS, rng.randint(1, 3)),
            willingness=rng.sample(kinds, rng.randint(1, 2)),
            availability=rng.sample(SLOTS, rng.randint(2, 6)),
        )
        volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
        count += 1
    # The demo's volunteer login: an in-service party member reporting to the community
    # (双报到) from their work unit.
    login = User.objects.filter(username="volunteer").first()
    if login is not None and not Volunteer.objects.filter(user=login).exists():
        volunteer = volunteer_signup(
            actor=login,
            grid_unit=community,
            name=login.display_name or login.username,
            work_unit="区卫生健康委员会",
            party_member_type="in_service",
            skills=[Skill.MEDICAL, Skill.FIRST_AID],
            willingness=[ServiceKind.MEDICAL_SUPPORT, ServiceKind.CARE],
            availability=["thu_pm", "sat_am", "sun_am"],
        )
        volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
        count += 1
    teams_create_defaults(community=community)
    recommendation = recommendation_create(actor=secretary, community=community)
    recommendation_accept(actor=secretary, recommendation=recommendation)
    return count


def _partners(community: GridUnit, secretary: User) -> None:
    today = clock.localdate()
    login = User.objects.filter(username="partner").first()
    for index, (name, kind, offers, resources) in enumerate(PARTNERS):
        partner = partner_create(
            actor=secretary, community=community, name=name, partner_type=kind, offers=offers
        )
        agreement_add(
            actor=secretary,
            partner=partner,
            title=f"{name}共建协议",
            starts_on=today - timedelta(days=200),
            ends_on=today + timedelta(days=165),
        )
        # The demo's partner login acts for the court's legal studio.
        if index == 0 and login is not None:
            liaison_link(actor=secretary, partner=partner, user=login)
        for resource_kind, category, title in resources:
            resource_offer(
                actor=secretary,
                kind=resource_kind,
                category=category,
                title=title,
                partner=partner,
                quantity=10,
            )


def _needs(rng: random.Random, community: GridUnit, secretary: User) -> None:
    """Needs written down on visits (an elder living alone asks for weekly grocery help),
    some of them claimed by volunteers."""
    visits = list(
        Visit.objects.filter(grid_path__startswith=community.path, finding__contains="买菜")
        .select_related("household__building")
        .order_by("id")[:12]
    )
    volunteers = list(
        Volunteer.objects.filter(grid_path__startswith=community.path, user__isnull=True).order_by(
            "id"
        )
    )
    for index, visit in enumerate(visits):
        need = need_from_visit(
            actor=secretary,
            visit=visit,
            category="food",
            title="每周帮忙买菜",
            recurrence="weekly",
        )
        # A neighbour from the same building group takes it on.
        near = [v for v in volunteers if need.grid_path.startswith(v.grid_path)]
        if index % 2 == 0 and near:
            claim = claim_need(actor=secretary, need=need, volunteer=rng.choice(near), quantity=1)
            claim_transition(claim=claim, actor=secretary, action="start")


def _supplies(community: GridUnit, secretary: User) -> None:
    place = stock_location_create(
        actor=secretary, grid_unit=community, name="共享客厅应急物资柜", address="中心花园门卫室旁"
    )
    today = clock.localdate()
    for name, category, unit, minimum, stock in SUPPLIES:
        supply_item_create(
            actor=secretary,
            location=place,
            name=name,
            category=category,
            unit=unit,
            minimum_level=minimum,
            quantity=stock,
            expires_on=today + timedelta(days=20 if name == "消毒液" else 400),
        )


def demo_resources(*, community: GridUnit, seed: int) -> int:
    """Volunteers, teams, partners, needs and supplies for `community`; returns how many
    volunteers were added (0 when the community already has some)."""
    if Volunteer.objects.filter(grid_path__startswith=community.path).exists():
        return 0
    rng = random.Random(f"linli-demo-resources:{seed}")
    secretary = (
        RoleAssignment.objects.filter(grid_unit=community, role=Role.SECRETARY)
        .select_related("user")
        .order_by("id")
        .first()
        .user
    )
    count = _volunteers(rng, community, secretary)
    _partners(community, secretary)
    _needs(rng, community, secretary)
    _supplies(community, secretary)
    return count
