"""`linli drill simulate --plan P --scope S [--grade G] [--seed N] [--set name=value ...]`.

Runs a simulated drill of plan P (its id or exact name) for grid unit S (its code) on the
registry as it is now, prints the predicted time to 50/90/100% welfare contact and the
bottlenecks, and keeps the result for the resilience indicators. `--set` changes one
simulation parameter (see linli/emergency/simulate.py), e.g. `--set non_response_share=0.2`.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.emergency.drills import PARAMETER_NAMES, drill_simulate
from linli.emergency.models import Plan
from linli.grids.models import GridUnit
from linli.volunteers.models import Volunteer


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _minutes(value) -> str:
    return "—" if value is None else f"{value:.0f} min"


class Command(BaseCommand):
    help = "Simulate a drill of an emergency plan on the current registry."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["simulate"])
        parser.add_argument("--plan", required=True, help="plan id or exact name")
        parser.add_argument("--scope", required=True, help="code of the grid unit")
        parser.add_argument("--grade", type=int, default=4, help="1 (most severe) to 4")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a simulation parameter: {', '.join(PARAMETER_NAMES)}",
        )
        parser.add_argument("--json", action="store_true", help="print the stored result as JSON")

    def handle(self, *args, action, plan, scope, grade, seed, overrides, json: bool, **options):
        found = (
            Plan.objects.filter(pk=int(plan)) if plan.isdigit() else Plan.objects.filter(name=plan)
        )
        plan_row = found.select_related("grid_unit").first()
        if plan_row is None:
            raise CommandError(f"没有此预案 / no plan {plan!r}")
        unit = GridUnit.objects.filter(code=scope).first()
        if unit is None:
            raise CommandError(f"没有此网格 / no grid unit with code {scope!r}")
        parameters = {"seed": seed}
        for item in overrides:
            name, separator, value = item.partition("=")
            if not separator:
                raise CommandError(f"--set needs NAME=VALUE, got {item!r}")
            try:
                parameters[name] = _number(value)
            except ValueError:
                raise CommandError(f"--set {name}: not a number: {value!r}") from None
        try:
            simulation = drill_simulate(
                actor=None, plan=plan_row, scope=unit, grade=grade, parameters=parameters
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        result = simulation.result
        if json:
            self.stdout.write(_json_dump(result))
            return
        assignment = result["assignment"]
        self.stdout.write(
            f"{plan_row.name} · {unit.name} · grade {grade} · seed {seed} (simulation {simulation.pk})"
        )
        self.stdout.write(
            f"tasks {assignment['tasks']}, assigned {assignment['assigned']}, "
            f"volunteers {assignment['volunteers_used']}/{assignment['volunteers_available']}, "
            f"unassigned {assignment['unassigned'] or 0}"
        )
        self.stdout.write(
            f"targeted households {simulation.targeted_households}: 50% {_minutes(simulation.minutes_to_50)}, "
            f"90% {_minutes(simulation.minutes_to_90)}, 100% {_minutes(simulation.minutes_to_100)}, "
            f"all settled {_minutes(result['all_settled_at'])}"
        )
        self.stdout.write(
            f"not reached: {result['escalated_households']} escalated after the last try, "
            f"{result['unassigned_households']} without a volunteer, "
            f"{result['stranded_households']} stranded (volunteer never responded)"
        )
        names = dict(
            Volunteer.objects.filter(
                pk__in=[w["worker_id"] for w in result["slowest_workers"]]
            ).values_list("pk", "name")
        )
        for worker in result["slowest_workers"]:
            self.stdout.write(
                f"  slowest: {names.get(worker['worker_id'], worker['worker_id'])} finishes at "
                f"{_minutes(worker['finished_at'])} with {worker['task_count']} tasks, "
                f"{worker['distance_metres']:.0f} m walked"
            )


def _json_dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
