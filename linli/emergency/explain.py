"""Every assignment explains itself in one sentence.

The solver (linli.emergency.assign.explain) stores the facts behind an assignment in
`Task.explanation`; an unassigned task keeps its reason in `Task.unassigned_reason`. This
module turns either into a sentence in the reader's language, so the board, the task page
and the volunteer's phone say the same thing. Facts are read defensively: a task written by
an older version, or reassigned by hand, may hold fewer keys.
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linli.emergency.models import Task, TaskState, UnassignedReason
from linli.volunteers.models import ServiceKind, Skill


def _label(choices, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def _join(labels: list[str]) -> str:
    return pgettext("list separator", ", ").join(labels)


def _team(task: Task, facts: dict) -> str:
    team = facts.get("required_team") or task.required_team
    return _label(ServiceKind, team) if team else ""


def _skills(task: Task, facts: dict) -> str:
    codes = facts.get("required_skills") or [
        code for code in (task.required_skills or "").split(",") if code
    ]
    return _join([_label(Skill, code) for code in codes])


def unassigned_sentence(task: Task, reason: str) -> str:
    facts = task.explanation or {}
    if reason == UnassignedReason.NO_WORKER_IN_ZONE:
        return _(
            "Not assigned: no volunteer is available within the plan's movement rule for "
            "this place."
        )
    if reason == UnassignedReason.NO_WORKER_WITH_TEAM:
        team = _team(task, facts)
        if team:
            return _("Not assigned: no available volunteer here is in the %(team)s team.") % {
                "team": team
            }
        return _("Not assigned: no available volunteer here is in the required team.")
    if reason == UnassignedReason.NO_WORKER_WITH_SKILLS:
        skills = _skills(task, facts)
        if skills:
            return _("Not assigned: no available volunteer here has %(skills)s.") % {
                "skills": skills
            }
        return _("Not assigned: no available volunteer here has the required skills.")
    if reason == UnassignedReason.CAPACITY_EXHAUSTED:
        return _(
            "Not assigned: every suitable volunteer already holds as many tasks as the plan "
            "allows; more vulnerable households were served first."
        )
    return _("Not assigned yet.")


def _facts_clauses(facts: dict) -> list[str]:
    clauses: list[str] = []
    distance = facts.get("distance_metres")
    if facts.get("same_building"):
        clauses.append(_("lives in the same building"))
    elif distance is not None and facts.get("distance_measured", True):
        if facts.get("same_group"):
            clauses.append(
                _("lives about %(metres)d m away, in the same building group")
                % {"metres": distance}
            )
        else:
            clauses.append(_("lives about %(metres)d m away") % {"metres": distance})
    elif facts.get("same_group"):
        clauses.append(_("lives in the same building group"))
    elif distance is not None:
        clauses.append(
            _("lives in the same zone (no map position, about %(metres)d m assumed)")
            % {"metres": distance}
        )
    team = facts.get("team") or facts.get("required_team")
    if team:
        clauses.append(_("is in the %(team)s team") % {"team": _label(ServiceKind, team)})
    skills = facts.get("matched_skills") or []
    if skills:
        clauses.append(
            _("has the skills asked for (%(skills)s)")
            % {"skills": _join([_label(Skill, code) for code in skills])}
        )
    if facts.get("capacity_left") is not None:
        clauses.append(
            _("still had room for %(count)d more tasks") % {"count": facts["capacity_left"]}
        )
    return clauses


def assignment_sentence(task: Task) -> str:
    """One sentence saying why the task is with whom it is with, or why nobody has it."""
    facts = task.explanation or {}
    if task.state == TaskState.ESCALATED:
        return _(
            "Nobody answered after %(tries)d tries, so the task went to the micro-grid lead."
        ) % {"tries": task.attempts}
    if task.state == TaskState.CANCELLED and task.assignee_id is None:
        return _("Cancelled before anyone was assigned.")
    if task.assignee_id is None:
        reason = task.unassigned_reason or (facts.get("reason") if facts else "") or ""
        return unassigned_sentence(task, reason)
    name = task.assignee.name
    if facts.get("by_staff"):
        return _("%(staff)s assigned the task to %(name)s by hand.") % {
            "staff": facts.get("staff") or _("Staff"),
            "name": name,
        }
    clauses = _facts_clauses(facts) if facts.get("assigned", True) else []
    if not clauses:
        return _("Assigned to %(name)s.") % {"name": name}
    return _("Assigned to %(name)s, who %(facts)s.") % {"name": name, "facts": _join(clauses)}
