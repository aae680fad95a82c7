"""Simulated drills (`linli drill simulate`): what an activation of a plan would do on the
registry as it is now, played forward by linli.emergency.simulate to predict the time to
full welfare contact and show the bottlenecks before a real event.

The assignment is the one a real activation would make (the same drafting, workforce and
solver as `activation_start`), and each volunteer walks their tasks in the order their
phone would show them. Nothing but the Simulation row is written, so a simulation can run
while the community is in normal operation. Simulations are kept beside real drills for
the resilience indicators.
"""

from __future__ import annotations

import dataclasses

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.emergency import assign as solver
from linli.emergency import simulate
from linli.emergency.models import Plan, Simulation, TaskKind
from linli.emergency.services.drafting import (
    registry_read,
    solve,
    solver_job,
    tasks_draft,
    templates_at,
    workforce_read,
)
from linli.emergency.services.guards import plan_scope_check
from linli.errors import NotAllowed
from linli.grids.models import GridUnit
from linli.grids.selectors import scope_for

# The Parameters fields a caller may set (the command's options).
PARAMETER_NAMES = tuple(field.name for field in dataclasses.fields(simulate.Parameters))


def simulation_inputs(
    *, plan: Plan, scope: GridUnit, grade: int
) -> tuple[list[simulate.Route], list[simulate.Stop], dict]:
    """Routes in walking order and the unassigned stops, as an activation now would make
    them; plus the figures of that assignment."""
    templates = templates_at(plan, grade)
    drafts = tasks_draft(templates=templates, registry=registry_read(scope.path), now=clock.now())
    workforce = workforce_read(
        path=scope.path, rule=plan.movement_rule, capacity=plan.volunteer_capacity
    )
    result = solve(drafts, workforce, plan.movement_rule)
    jobs = [solver_job(index, draft, plan.movement_rule) for index, draft in enumerate(drafts)]
    orders = solver.routes(result, jobs, workforce.workers)
    homes = {worker.id: worker for worker in workforce.workers}

    def stop(index: int) -> simulate.Stop:
        draft = drafts[index]
        welfare = draft.kind == TaskKind.WELFARE_CHECK
        return simulate.Stop(
            task_id=index,
            household_id=draft.household_id if welfare else None,
            latitude=draft.latitude,
            longitude=draft.longitude,
            counts_for_coverage=welfare,
        )

    routes = []
    for worker_id, order in orders.items():
        worker = homes[worker_id]
        start = (
            (worker.latitude, worker.longitude)
            if worker.latitude is not None and worker.longitude is not None
            else None
        )
        routes.append(simulate.Route(worker_id, start, [stop(index) for index in order]))
    unassigned = [stop(index) for index, draft in enumerate(drafts) if draft.assignee_id is None]
    figures = {
        "tasks": len(drafts),
        "assigned": result.assigned,
        "unassigned": {reason: count for reason, count in result.unassigned.items() if count},
        "volunteers_available": len(workforce.workers),
        "volunteers_used": len(orders),
        "objective": result.objective,
    }
    return routes, unassigned, figures


def parameters_from(values: dict) -> simulate.Parameters:
    unknown = sorted(set(values) - set(PARAMETER_NAMES))
    if unknown:
        raise ValidationError(
            {"parameters": _("Unknown parameters: %(names)s") % {"names": ", ".join(unknown)}}
        )
    try:
        return simulate.Parameters(**values)
    except (TypeError, ValueError) as error:
        raise ValidationError({"parameters": str(error)}) from None


@transaction.atomic
def drill_simulate(
    *,
    actor: User | None,
    plan: Plan,
    scope: GridUnit,
    grade: int = 4,
    parameters: dict | None = None,
) -> Simulation:
    """Simulate a drill of `plan` for `scope` now and keep the prediction. `actor` None is
    the command line (an operator of the installation)."""
    if actor is not None and not scope_for(actor).allows(Permission.EMERGENCY_ACTIVATE, scope.path):
        raise NotAllowed(_("You may not run drills for %(scope)s.") % {"scope": scope.name})
    grade = plan_scope_check(plan=plan, scope=scope, grade=grade)
    chosen = parameters_from(parameters or {})
    routes, unassigned, figures = simulation_inputs(plan=plan, scope=scope, grade=grade)
    outcome = simulate.simulate(routes, unassigned=unassigned, parameters=chosen)
    summary = outcome.summary()
    summary["assignment"] = figures
    return Simulation.objects.create(
        plan=plan,
        scope=scope,
        grid_path=scope.path,
        grade=grade,
        seed=chosen.seed,
        parameters=dataclasses.asdict(chosen),
        minutes_to_50=outcome.time_to(0.5),
        minutes_to_90=outcome.time_to(0.9),
        minutes_to_100=outcome.time_to(1.0),
        targeted_households=outcome.targeted_households,
        result=summary,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
