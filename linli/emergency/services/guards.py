"""The checks every emergency write shares: who commands where, the live activation and
the task locked for the rest of the transaction, whose task it is, and whether a plan may
be activated for a unit at a grade.

A refusal is `linli.errors.NotAllowed` (403 in the API), a row that moved on under the
caller `Conflict` (409), bad input a ValidationError naming the field (400).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.emergency.models import Activation, Grade, Plan, Task
from linli.emergency.selectors import own_volunteer
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.volunteers.models import Volunteer

P = Permission


def user_or_none(user: User | None) -> User | None:
    """The person to record as actor: nobody for the system or an anonymous caller."""
    return user if user is not None and user.is_authenticated else None


def may_command(actor: User | None, grid_path: str) -> bool:
    return scope_for(actor).allows(P.EMERGENCY_COMMAND, grid_path)


def locked_activation(activation: Activation) -> Activation:
    """The activation row locked for the rest of the transaction; a stood-down one is a
    conflict (someone stood it down while the caller looked at it)."""
    locked = (
        Activation.objects.select_for_update().select_related("plan", "scope").get(pk=activation.pk)
    )
    if not locked.is_active:
        raise Conflict(_("This emergency has already been stood down."), field="activation")
    return locked


def locked_task(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("activation").get(pk=task.pk)


def assignee_check(actor: User, task: Task) -> Volunteer:
    """The volunteer holding `task`, when that is the actor; anyone else is refused."""
    volunteer = own_volunteer(user=actor)
    if volunteer is None or task.assignee_id != volunteer.pk:
        raise NotAllowed(_("This task is not yours."))
    return volunteer


def plan_scope_check(*, plan: Plan, scope: GridUnit, grade: int | str) -> int:
    """Whether `plan` may be activated for `scope` at `grade` (any form a caller sent it
    in): the grade as a number, or every fault named at its field."""
    errors: dict[str, str] = {}
    try:
        number = int(grade)
    except (TypeError, ValueError):
        number = 0
    if number not in Grade.values:
        errors["grade"] = _("Choose a grade from I to IV.")
    if not plan.is_active:
        errors["plan"] = _("This plan is no longer in use.")
    elif not scope.path.startswith(plan.grid_path):
        errors["plan"] = _("This plan belongs to %(owner)s and cannot be used for %(scope)s.") % {
            "owner": plan.grid_unit.name,
            "scope": scope.name,
        }
    if scope.level == GridLevel.BUILDING_GROUP:
        errors["scope"] = _("Activate for a micro-grid, a community or wider.")
    if errors:
        raise ValidationError(errors)
    return number
