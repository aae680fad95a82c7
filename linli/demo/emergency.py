"""The demo's emergency operation: the street's default plans (one per hazard) and a past
typhoon drill of the case-study community, played through the real services with times in
the past, so that the after-action report, the volunteers' hours and the resilience
indicators have a drill to read.

Written once: a street that already has plans gets nothing more.
"""

from __future__ import annotations

import random
from datetime import timedelta

from linli import clock
from linli.accounts.roles import Role
from linli.emergency.models import HELD_TASK_STATES, Hazard, Plan, Task
from linli.emergency.services import (
    activation_stand_down,
    activation_start,
    help_request_close,
    help_request_dispatch,
    plans_create_defaults,
    task_report,
)
from linli.grids.models import GridUnit, RoleAssignment
from linli.volunteers.models import Volunteer

DRILL_DAYS_AGO = 35
HELP_KINDS = ("medicine", "food", "transport", "psychological")
LESSONS = (
    "1. 独居老人安全确认在两小时内基本完成，但第三微网格志愿者偏少，部分住户由楼组长代为联系。\n"
    "2. 有三户多次联系不上，需提前登记其子女联系方式。\n"
    "3. 防汛沙袋存放点离低洼楼栋较远，建议在3号楼增设一处。"
)


def _staff(community: GridUnit, role: str):
    return (
        RoleAssignment.objects.filter(grid_path__startswith=community.path, role=role)
        .select_related("user")
        .order_by("id")
        .first()
        .user
    )


def demo_emergency(*, community: GridUnit, seed: int) -> bool:
    """Returns whether anything was added."""
    street = community.parent.parent
    if Plan.objects.filter(grid_unit=street).exists():
        return False
    plans_create_defaults(owner=street, actor=None)
    rng = random.Random(seed + 6)
    secretary = _staff(community, Role.SECRETARY)
    typhoon = Plan.objects.get(grid_unit=street, hazard=Hazard.TYPHOON)
    started = clock.now() - timedelta(days=DRILL_DAYS_AGO, hours=-9)
    activation = activation_start(
        actor=secretary,
        plan=typhoon,
        scope=community,
        grade=4,
        is_drill=True,
        note="汛期前防台防汛演练",
        acknowledge_problems=True,
        now=started,
    )
    # Volunteers phone their results in; the secretary's desk records them as they come.
    tasks = list(
        Task.objects.filter(activation=activation, state__in=HELD_TASK_STATES).order_by(
            "assignee_id", "id"
        )
    )
    elapsed_by_assignee: dict[int, timedelta] = {}
    requests = []
    for task in tasks:
        elapsed = elapsed_by_assignee.get(task.assignee_id, timedelta(minutes=rng.randint(3, 20)))
        elapsed += timedelta(minutes=rng.randint(4, 12))
        elapsed_by_assignee[task.assignee_id] = elapsed
        roll = rng.random()
        welfare = task.kind == "welfare_check"
        if welfare and roll < 0.08:
            task_report(
                actor=secretary,
                task=task,
                outcome="no_answer",
                note="敲门无人应答",
                now=started + elapsed,
            )
            task.refresh_from_db()
            if rng.random() < 0.6 and task.state == "retry":
                task_report(
                    actor=secretary,
                    task=task,
                    outcome="safe",
                    note="第二次上门，本人在家",
                    now=task.retry_at + timedelta(minutes=rng.randint(1, 15)),
                )
            continue
        if welfare and roll < 0.13:
            kind = rng.choice(HELP_KINDS)
            task_report(
                actor=secretary,
                task=task,
                outcome="needs_help",
                note="需要协助",
                help_kind=kind,
                help_urgency=rng.choice((2, 3)),
                help_description={
                    "medicine": "常用降压药只剩两天",
                    "food": "行动不便，家中缺少食品",
                    "transport": "需要预约明天透析的车辆",
                    "psychological": "独居，情绪紧张，希望有人陪伴聊天",
                }[kind],
                now=started + elapsed,
            )
            requests.append((task, started + elapsed))
            continue
        task_report(
            actor=secretary,
            task=task,
            outcome="safe" if welfare else "done",
            note="",
            now=started + elapsed,
        )
    helpers = list(Volunteer.objects.serving().within([community.path]).order_by("id")[:5])
    for index, (task, reported_at) in enumerate(requests):
        request = task.help_requests.get()
        dispatched = reported_at + timedelta(minutes=rng.randint(5, 25))
        request = help_request_dispatch(
            actor=secretary,
            request=request,
            expected_version=request.version,
            volunteer=helpers[index % len(helpers)],
            now=dispatched,
        )
        help_request_close(
            actor=secretary,
            request=request,
            resolution="已上门处理",
            now=dispatched + timedelta(minutes=rng.randint(20, 90)),
        )
    activation_stand_down(
        actor=secretary,
        activation=activation,
        reason="演练结束",
        lessons=LESSONS,
        now=started + timedelta(hours=3),
    )
    return True
