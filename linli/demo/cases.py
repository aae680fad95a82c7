"""Two months of 民情 cases for the case-study community, so the workbench, the public board
and the metrics have a history to show.

Every case is carried through the real services (filing, 立案, 派遣 … 结案, rating,
escalation), so the timeline and counters are what users would have produced; only the
timestamps are then moved back to the day the case is meant to have happened, because the
services stamp "now". Written once: a community that already has cases gets none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, CaseSource
from linli.cases.services import case_create, case_escalate, case_transition
from linli.grids.models import Building, GridUnit, RoleAssignment

CASE_COUNT = 160
HISTORY_DAYS = 60
# Cases of the last two weeks are still anywhere in the loop; older ones have mostly ended.
RECENT_DAYS = 14

# (category code, weight, descriptions in residents' words)
PROBLEMS = [
    ("SAF-01", 9, ["3楼楼道堆满纸箱和旧家具，影响通行", "楼道里堆放了很多杂物，消防通道不畅"]),
    ("SAF-02", 6, ["有住户把电动自行车推进楼道充电", "一楼门厅有人飞线给电瓶车充电"]),
    ("SAF-03", 3, ["楼下花坛经常发现从楼上扔下的垃圾", "晾衣架上的东西掉下来，差点砸到人"]),
    ("ENV-01", 3, ["小区门口水果店把货架摆到人行道上", "早点摊占用消防通道经营"]),
    ("ENV-02", 3, ["中心花园绿地被人开垦种菜", "有人在绿化带里堆放建筑垃圾"]),
    ("ENV-03", 5, ["垃圾箱房满溢，湿垃圾没人分拣", "有人在投放点外乱扔大件垃圾"]),
    ("ENV-04", 3, ["楼上装修中午和晚上还在施工", "广场舞音响声音太大影响老人休息"]),
    ("HOU-01", 4, ["顶楼屋面渗漏，下雨天家里漏水", "外墙瓷砖松动，有脱落危险"]),
    ("HOU-02", 5, ["楼道声控灯坏了好几天", "单元门禁坏了关不上"]),
    ("NEI-01", 2, ["楼上漏水到楼下，两户协商不成", "邻居在公共走廊放鞋柜引发争执"]),
    ("SVC-01", 1, ["小区附近没有公交站，老人出行不便"]),
    ("OTH-01", 1, ["希望中心花园增加几张座椅"]),
]

# Where each case ends up, by how long ago it was filed; weights per outcome.
OLD_OUTCOMES = [("closed", 70), ("rejected", 6), ("duplicate", 3), ("resolved", 6), ("late", 15)]
RECENT_OUTCOMES = [
    ("reported", 20),
    ("accepted", 15),
    ("dispatched", 20),
    ("in_progress", 20),
    ("resolved", 15),
    ("closed", 10),
]


@dataclass
class _People:
    secretary: User
    resident: User | None
    leads: dict[str, User]  # micro-grid path -> lead
    leaders: dict[str, User]  # building-group path -> leader

    def lead_for(self, path: str) -> User:
        return next(
            (user for prefix, user in self.leads.items() if path.startswith(prefix)),
            self.secretary,
        )

    def leader_for(self, path: str) -> User | None:
        return self.leaders.get(path)


def _people(community: GridUnit) -> _People:
    assignments = RoleAssignment.objects.filter(
        grid_path__startswith=community.path
    ).select_related("user")
    by_role: dict[str, dict[str, User]] = {}
    for assignment in assignments:
        by_role.setdefault(assignment.role, {}).setdefault(assignment.grid_path, assignment.user)
    secretary = next(iter(by_role.get(Role.SECRETARY, {}).values()))
    resident = User.objects.filter(username="resident").first()
    return _People(
        secretary=secretary,
        resident=resident,
        leads=by_role.get(Role.MICRO_GRID_LEAD, {}),
        leaders=by_role.get(Role.BUILDING_GROUP_LEADER, {}),
    )


def _file(rng: random.Random, people: _People, building: Building, category: CaseCategory):
    description = rng.choice(next(texts for code, _w, texts in PROBLEMS if code == category.code))
    leader = people.leader_for(building.grid_path)
    roll = rng.random()
    if roll < 0.12 and people.resident is not None:
        home = people.resident.resident_account.resident.household.building
        return case_create(
            reporter=people.resident,
            category=category,
            description=description,
            source=CaseSource.RESIDENT_REPORT,
            building=home,
        )
    if roll < 0.22:
        return case_create(
            reporter=people.secretary,
            category=category,
            description=description,
            source=CaseSource.HOTLINE_12345,
            hotline_reference=f"12345-{rng.randint(10**9, 10**10 - 1)}",
            building=building,
        )
    reporter = leader or people.lead_for(building.grid_path)
    source = rng.choices([CaseSource.VISIT, CaseSource.PATROL, CaseSource.STAFF], [5, 3, 2])[0]
    return case_create(
        reporter=reporter,
        category=category,
        description=description,
        source=source,
        building=building,
    )


def _walk(rng: random.Random, people: _People, case: Case, outcome: str, others: list[Case]):
    lead = people.lead_for(case.grid_path)
    handler = people.leader_for(case.grid_path) or lead

    def step(action: str, actor: User, note: str = "", **data) -> None:
        nonlocal case
        case = case_transition(case=case, actor=actor, action=action, note=note, **data)

    if outcome == "reported":
        return case
    if outcome == "rejected":
        step("reject", lead, "经核实不属于社区处置范围，已向反映人解释")
        return case
    if outcome == "duplicate" and others:
        step("mark_duplicate", lead, duplicate_of=others[-1])
        return case
    step("accept", lead)
    if outcome == "accepted":
        return case
    step("dispatch", lead, owner_user=handler, handler_text=case.category.usual_handler)
    if outcome == "dispatched":
        return case
    step("start", handler)
    if outcome == "late" and rng.random() < 0.5:
        case = case_escalate(case=case, actor=handler, reason="超出本级处置能力，需要协调物业")
    if outcome == "in_progress":
        return case
    step("resolve", handler, "已现场处置，并告知反映人")
    if case.reporter_id and case.reporter_id == getattr(people.resident, "pk", None):
        step("rate", people.resident, satisfaction=rng.choices([5, 4, 3, 2], [6, 3, 1, 1])[0])
    if outcome == "resolved":
        return case
    step("verify", lead)
    step("close", lead)
    return case


def _backdate(rng: random.Random, case: Case, filed_at, late: bool) -> None:
    """Move the case's clock back to `filed_at`, its steps a few hours to days apart."""
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    sla = timedelta(hours=case.category.sla_hours)
    # Late cases take longer than their time limit in all; the rest close inside it.
    total = sla * rng.uniform(1.2, 2.5) if late else sla * rng.uniform(0.2, 0.9)
    moments = sorted(rng.random() for _ in events[1:])
    stamps = [filed_at] + [filed_at + total * moment for moment in moments]
    now = clock.now()
    stamps = [min(stamp, now) for stamp in stamps]
    for event, stamp in zip(events, stamps, strict=True):
        CaseEvent.objects.filter(pk=event.pk).update(created_at=stamp)
    by_action = {event.action: stamp for event, stamp in zip(events, stamps, strict=True)}
    shift = filed_at - case.created_at
    Case.objects.filter(pk=case.pk).update(
        created_at=filed_at,
        original_due_at=filed_at + sla,
        due_at=F("due_at") + shift,
        accepted_at=by_action.get("accept"),
        resolved_at=by_action.get("resolve"),
        closed_at=by_action.get("close"),
    )


def demo_cases(*, community: GridUnit, seed: int) -> int:
    """File and carry through about 160 cases of the last two months in `community`."""
    if Case.objects.filter(grid_path__startswith=community.path).exists():
        return 0
    rng = random.Random(f"linli-demo-cases:{seed}")
    people = _people(community)
    buildings = list(Building.objects.filter(grid_path__startswith=community.path).order_by("id"))
    categories = {category.code: category for category in CaseCategory.objects.all()}
    codes = [code for code, _weight, _texts in PROBLEMS]
    weights = [weight for _code, weight, _texts in PROBLEMS]
    now = clock.now()
    filed: list[Case] = []
    for _ in range(CASE_COUNT):
        days_ago = rng.uniform(0, HISTORY_DAYS)
        category = categories[rng.choices(codes, weights)[0]]
        table = OLD_OUTCOMES if days_ago > RECENT_DAYS else RECENT_OUTCOMES
        outcome = rng.choices([name for name, _w in table], [w for _n, w in table])[0]
        case = _file(rng, people, rng.choice(buildings), category)
        same = [other for other in filed if other.category_id == category.pk and other.is_open]
        case = _walk(rng, people, case, outcome, same)
        _backdate(rng, case, now - timedelta(days=days_ago), late=outcome == "late")
        filed.append(Case.objects.get(pk=case.pk))
    return len(filed)
