"""Every assignment explains itself in one sentence (linli.emergency.explain)."""

import pytest

from linli.emergency.explain import assignment_sentence
from linli.emergency.models import Task, TaskState
from linli.volunteers.models import Volunteer


def _task(**fields) -> Task:
    return Task(title="安全确认", kind="welfare_check", **fields)


def test_assignment_by_the_solver_names_distance_group_team_and_skills():
    task = _task(
        state=TaskState.ASSIGNED,
        assignee=Volunteer(pk=7, name="陈志愿"),
        explanation={
            "assigned": True,
            "worker_id": 7,
            "distance_metres": 111,
            "distance_measured": True,
            "same_building": False,
            "same_group": True,
            "team": "care",
            "matched_skills": ["first_aid"],
            "capacity_left": None,
        },
    )
    assert assignment_sentence(task) == (
        "Assigned to 陈志愿, who lives about 111 m away, in the same building group, is in "
        "the Care and assistance team, has the skills asked for (First aid)."
    )


def test_assignment_without_map_positions_says_the_distance_is_assumed():
    task = _task(
        state=TaskState.ASSIGNED,
        assignee=Volunteer(pk=7, name="陈志愿"),
        explanation={"assigned": True, "distance_metres": 400, "distance_measured": False},
    )
    assert assignment_sentence(task) == (
        "Assigned to 陈志愿, who lives in the same zone (no map position, about 400 m assumed)."
    )


def test_assignment_by_staff_names_who_chose():
    task = _task(
        state=TaskState.ASSIGNED,
        assignee=Volunteer(pk=8, name="刘志愿"),
        explanation={"by_staff": True, "staff": "王书记"},
    )
    assert assignment_sentence(task) == "王书记 assigned the task to 刘志愿 by hand."


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        (
            "no_worker_in_zone",
            "Not assigned: no volunteer is available within the plan's movement rule for this "
            "place.",
        ),
        (
            "no_worker_with_team",
            "Not assigned: no available volunteer here is in the Care and assistance team.",
        ),
        (
            "no_worker_with_skills",
            "Not assigned: no available volunteer here has Driving.",
        ),
        (
            "capacity_exhausted",
            "Not assigned: every suitable volunteer already holds as many tasks as the plan "
            "allows; more vulnerable households were served first.",
        ),
    ],
)
def test_unassigned_task_says_why(reason, sentence):
    task = _task(
        state=TaskState.UNASSIGNED,
        unassigned_reason=reason,
        required_team="care",
        required_skills=",driving,",
    )
    assert assignment_sentence(task) == sentence


def test_escalated_task_says_it_went_to_the_micro_grid_lead():
    task = _task(state=TaskState.ESCALATED, attempts=3, assignee=Volunteer(pk=7, name="陈志愿"))
    assert assignment_sentence(task) == (
        "Nobody answered after 3 tries, so the task went to the micro-grid lead."
    )
