"""Benchmark: 平 → 急, end to end on PostgreSQL.

    .venv/bin/python bench/emergency_activation.py [--repeats 7] [--skip-district]
        [--community-url postgres://...] [--district-url postgres://...] [--rebuild]
        [--district-residents 1000000]

1. The demo community (`linli demo`: A社区 with about 6,300 residents and its 80 demo
   volunteers, in its own database `linli_bench_emergency`). A welfare-check plan targets
   every household with an elderly person living alone, a disabled or a seriously ill
   member; every active volunteer is available. Times `activation_start` (a drill) from
   the call to its return after COMMIT: the registry read, the drafts, the workforce, the
   solver, the bulk insert, the timeline row and the notifications queued (Celery with an
   in-memory broker, not eager: queueing is a publish, delivery is not timed). Each run's
   activation is deleted afterwards, so every run starts from the same registry. Target 0.5 s.
2. A district (`linli demo --residents 1000000`, in `linli_bench_district`: 159 A-shaped
   communities in 14 streets; generated once, about 6 minutes), with 125 volunteers per
   community (about 20,000, each with a login and a home building of their community)
   added once by this script. The street is the widest grid unit, so the district is
   activated street by street with the same plan (one street plan each); the total over
   the streets is the district's end-to-end time. Target 15 s on 2 cores, peak memory
   (max RSS of this process) under 4 GB. Then, untimed, every community's assignment is
   checked against the plain one-node-per-task min-cost flow (`exact_network_optimum`),
   and the bare solver time on the same instance gives the end-to-end / solver ratio.

What it deletes: only its own activations (`own_activations`: started by its operator on
one of its own plans, with nothing anyone else added to them) and what `activation_start`
wrote for them — tasks, timeline, the notifications about them and their outbox rows. The
demo's past drill with its help requests, and any other activation, is left as it is.
"""

import argparse
import os
import random
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

from _common import ensure_database, isolate_environment, log_to_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COMMUNITY_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_emergency"
DISTRICT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_district"
DISTRICT_RESIDENTS = 1_000_000
VOLUNTEERS_PER_COMMUNITY = 125
TARGET_TAGS = ",disabled,elderly_alone,serious_illness,"
PLAN_NAME = "基准测试：重点人群安全确认"
FIELD_KEY = "bench-district-key"
BENCH_OPERATOR = "bench-operator"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-district", action="store_true")
    # A smaller district for a quick check: it only sizes a district database generated
    # here (bench/resilience_indicators.py takes the same option for its own).
    parser.add_argument("--district-residents", type=int, default=DISTRICT_RESIDENTS)
    parser.add_argument(
        "--community-url", default=os.environ.get("LINLI_BENCH_EMERGENCY_URL", COMMUNITY_URL)
    )
    parser.add_argument(
        "--district-url", default=os.environ.get("LINLI_BENCH_DISTRICT_URL", DISTRICT_URL)
    )
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    return parser.parse_known_args()[0]


def setup_django(url: str) -> None:
    isolate_environment(url)
    # Queue, do not deliver: the in-memory broker (`isolate_environment`) takes the
    # publish, no worker runs.
    os.environ["LINLI_CELERY_EAGER"] = "0"
    # The district's key: bench/resilience_indicators.py reads a copy of the same data.
    os.environ["LINLI_FIELD_KEY"] = os.environ.get("LINLI_BENCH_DISTRICT_KEY", FIELD_KEY)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    log_to_file()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_demo(residents: int | None) -> None:
    from django.core.management import call_command

    from linli.grids.models import Resident

    if Resident.objects.exists():
        have = Resident.objects.count()
        if residents and have != residents:
            print(
                f"  note: the district holds {have:,} residents, not {residents:,}: "
                "it is reused as it is (--rebuild generates it again)",
                flush=True,
            )
        return
    print(f"generating the demo ({residents or 'default'} residents) …", flush=True)
    started = time.perf_counter()
    options = {"no_serve": True}
    if residents:
        options["residents"] = residents
    call_command("demo", **options)
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


def bench_user():
    from linli.accounts.models import User

    user, created = User.objects.get_or_create(
        username=BENCH_OPERATOR, defaults={"display_name": "bench", "is_superuser": True}
    )
    return user


# The plan: welfare checks of households with an elderly person living alone, a
# disabled or a seriously ill member. The wide plan checks every household with any
# vulnerability tag and patrols every building: closer to the issue's "about 400,000
# targeted households", which the demo's vulnerability rates do not reach.
SCENARIOS = {
    "issue": (PLAN_NAME, TARGET_TAGS, False),
    "wide": (
        "基准测试：全部重点人群确认及楼栋巡查",
        ",disabled,elderly_alone,empty_nest,left_behind_child,low_income,pregnant,serious_illness,",
        True,
    ),
}


def plan_for(unit, scenario: str = "issue"):
    from linli.emergency.models import Plan, TaskTemplate

    name, tags, patrols = SCENARIOS[scenario]
    plan, created = Plan.objects.get_or_create(
        grid_unit=unit,
        name=name,
        defaults={
            "grid_path": unit.path,
            "hazard": "typhoon",
            "movement_rule": "community",
            # Enough places for every targeted household when all volunteers serve.
            "volunteer_capacity": 40,
        },
    )
    if created:
        TaskTemplate.objects.create(
            plan=plan,
            kind="welfare_check",
            title="重点人群安全确认",
            target_tags=tags,
            due_hours=2,
            lowest_grade=4,
        )
        if patrols:
            TaskTemplate.objects.create(
                plan=plan, kind="patrol", title="楼栋巡查", due_hours=4, lowest_grade=4
            )
    return plan


def own_plan_names() -> list[str]:
    return [name for name, _tags, _patrols in SCENARIOS.values()]


def own_activations():
    """The activations this benchmark may delete: started by its operator on one of its own
    plans, and holding nothing anyone else added (help requests, supplies drawn, field
    reports, volunteers marked unavailable). Everything else in the database — the demo's
    past drill and its help requests, anyone's own activations — is not the benchmark's."""
    from django.db.models import Q

    from linli.emergency.models import Activation

    return Activation.objects.filter(
        activated_by__username=BENCH_OPERATOR, plan__name__in=own_plan_names()
    ).exclude(
        Q(help_requests__isnull=False)
        | Q(draws__isnull=False)
        | Q(tasks__reports__isnull=False)
        | Q(unavailabilities__isnull=False)
    )


def delete_own_activations(activation_ids: list[int] | None = None) -> int:
    """Delete the benchmark's own activations (`own_activations`; only those of
    `activation_ids` when given) with what `activation_start` wrote for them: their tasks
    and timeline (by cascade), and the notifications about them with their outbox rows.
    Returns how many activations were deleted."""
    from django.db import transaction
    from django.db.models import Q

    from linli.emergency.models import Activation
    from linli.notify.models import Notification

    with transaction.atomic():
        activations = own_activations()
        if activation_ids is not None:
            activations = activations.filter(pk__in=activation_ids)
        ids = list(activations.values_list("pk", flat=True).distinct())
        if not ids:
            return 0
        # What `activation_start` notified: the contact tree, with a link to this
        # activation's board, and the assignees, with the plan's name in the title (only
        # the benchmark activates its own plans).
        Notification.objects.filter(
            Q(kind="emergency_activated", link__in=[f"/emergency/{pk}/board/" for pk in ids])
            | Q(kind="emergency_tasks", title_params__plan__in=own_plan_names())
        ).delete()
        Activation.objects.filter(pk__in=ids).delete()
    return len(ids)


def clear_leftovers() -> None:
    """A run stopped half-way leaves its activations live, and a live activation of the
    same place refuses the next one: delete them, and say what is left alone."""
    from linli.emergency.models import Activation

    deleted = delete_own_activations()
    others = Activation.objects.active().count()
    if deleted or others:
        print(
            f"  {deleted} activation(s) left by an earlier run deleted; "
            f"{others} live activation(s) of others left alone",
            flush=True,
        )


def community_part(args) -> None:
    ensure_database(args.community_url, args.rebuild)
    setup_django(args.community_url)
    ensure_demo(None)
    from linli.emergency.services import activation_start
    from linli.grids.models import GridUnit
    from linli.volunteers.models import Volunteer

    community = GridUnit.objects.get(name="A社区")
    plan = plan_for(community)
    user = bench_user()
    clear_leftovers()
    timings, figures = [], None
    for _ in range(args.repeats):
        started = time.perf_counter()
        activation = activation_start(
            actor=user,
            plan=plan,
            scope=community,
            grade=4,
            is_drill=True,
            acknowledge_problems=True,
        )
        timings.append(time.perf_counter() - started)
        event = activation.events.get()
        figures = event.detail
        delete_own_activations([activation.pk])
    volunteers = Volunteer.objects.serving().within([community.path]).count()
    print(
        f"community {community.name}: {figures['tasks']} welfare checks, "
        f"{figures['assigned']} assigned to {figures['volunteers']} of {volunteers} volunteers"
    )
    print(
        f"  activation end to end, {len(timings)} runs: median {statistics.median(timings):.3f} s, "
        f"min {min(timings):.3f} s, max {max(timings):.3f} s (target 0.5 s)"
    )


def ensure_volunteers(rng: random.Random) -> None:
    """125 approved volunteers per community, each with a login and a home building of
    their community, written in bulk (the bench's own fill, not a user path)."""
    from linli.accounts.models import User
    from linli.grids.models import Building, GridLevel, GridUnit
    from linli.volunteers.models import Volunteer

    communities = list(GridUnit.objects.filter(level=GridLevel.COMMUNITY).order_by("path"))
    if Volunteer.objects.count() >= VOLUNTEERS_PER_COMMUNITY * len(communities):
        return
    started = time.perf_counter()
    password = "!"  # unusable: these logins exist for notifications, not to sign in
    skills = ["first_aid", "elder_care", "medical", "logistics", "driving", "repair"]
    for community in communities:
        have = Volunteer.objects.within([community.path]).count()
        missing = VOLUNTEERS_PER_COMMUNITY - have
        if missing <= 0:
            continue
        buildings = list(Building.objects.within([community.path]).values_list("id", flat=True))
        users = User.objects.bulk_create(
            [
                User(
                    username=f"bv-{community.code}-{i}",
                    display_name=f"志愿者{i}",
                    password=password,
                )
                for i in range(have, have + missing)
            ]
        )
        Volunteer.objects.bulk_create(
            [
                Volunteer(
                    user=user,
                    origin="outside",
                    name=f"{community.name}志愿者{i}",
                    work_unit="基准单位",
                    grid_unit=community,
                    grid_path=community.path,
                    home_building_id=rng.choice(buildings),
                    skills=",".join(["", *sorted(rng.sample(skills, 2)), ""]),
                    status="active",
                )
                for i, user in enumerate(users)
            ]
        )
    print(f"  volunteers added in {time.perf_counter() - started:.0f} s", flush=True)


def district_part(args) -> None:
    ensure_database(args.district_url, args.rebuild)
    setup_django(args.district_url)
    ensure_demo(args.district_residents)
    ensure_volunteers(random.Random(7))

    from linli.grids.models import GridLevel, GridUnit, Resident

    clear_leftovers()
    streets = list(GridUnit.objects.filter(level=GridLevel.STREET).order_by("path"))
    communities = GridUnit.objects.filter(level=GridLevel.COMMUNITY).count()
    residents = Resident.objects.count()
    print(f"district: {residents:,} residents, {communities} communities, {len(streets)} streets")
    for scenario in SCENARIOS:
        district_scenario(scenario, streets)


def district_scenario(scenario: str, streets) -> None:
    from django.utils import timezone

    from linli.emergency import assign as solver
    from linli.emergency.models import Activation
    from linli.emergency.services import (
        activation_start,
        registry_read,
        solver_job,
        tasks_draft,
        workforce_read,
    )

    user = bench_user()
    plans = {street.pk: plan_for(street, scenario) for street in streets}
    total, tasks, assigned, volunteers = 0.0, 0, 0, 0
    activations: list[Activation] = []
    for street in streets:
        started = time.perf_counter()
        activation = activation_start(
            actor=user,
            plan=plans[street.pk],
            scope=street,
            grade=4,
            is_drill=True,
            acknowledge_problems=True,
        )
        total += time.perf_counter() - started
        detail = activation.events.get().detail
        tasks += detail["tasks"]
        assigned += detail["assigned"]
        volunteers += detail["volunteers"]
        activations.append(activation)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"scenario {scenario}: {tasks:,} tasks, {assigned:,} assigned to {volunteers:,} volunteers"
    )
    print(
        f"  activation end to end over all streets: {total:.2f} s (target 15 s); "
        f"peak RSS so far {peak:,.0f} MB (target 4,096 MB)"
    )
    delete_own_activations([activation.pk for activation in activations])

    # Untimed: the same instance, solved again to read the bare solver time and compared
    # community by community with the plain network's optimum.
    solver_seconds, gaps, zones = 0.0, [], 0
    for street in streets:
        plan = plans[street.pk]
        drafts = tasks_draft(
            templates=list(plan.templates.all()),
            registry=registry_read(street.path),
            now=timezone.now(),
        )
        workforce = workforce_read(
            path=street.path, rule=plan.movement_rule, capacity=plan.volunteer_capacity
        )
        jobs = [solver_job(index, draft, plan.movement_rule) for index, draft in enumerate(drafts)]
        result = solver.assign(jobs, workforce.workers)
        solver_seconds += result.solver_seconds
        by_zone_jobs: dict[str, list] = {}
        for job in jobs:
            by_zone_jobs.setdefault(job.zone, []).append(job)
        by_zone_workers: dict[str, list] = {}
        for worker in workforce.workers:
            by_zone_workers.setdefault(worker.zone, []).append(worker)
        assignments = {a.job_id: a for a in result.assignments}
        for zone, zone_jobs in by_zone_jobs.items():
            zone_result = solver.Result(
                assignments=[assignments[job.id] for job in zone_jobs],
                unassigned_base=result.unassigned_base,
            )
            fast = solver.total_cost(zone_result, zone_jobs)
            exact = solver.exact_network_optimum(zone_jobs, by_zone_workers.get(zone, []))
            gaps.append(fast - exact)
            zones += 1
    print(
        f"  exactness: {zones} communities compared with the plain min-cost flow, "
        f"{sum(1 for gap in gaps if gap == 0)} equal, largest gap {max(gaps)}"
    )
    print(
        f"  bare solver time {solver_seconds:.2f} s; "
        f"end to end / solver = {total / solver_seconds:.1f}"
    )


def main() -> None:
    args = parse_args()
    community_part(args)
    if not args.skip_district:
        # A second process: Django is configured for one database per process.
        import subprocess

        result = subprocess.run(
            [sys.executable, __file__, "--district-only", *sys.argv[1:]], check=False
        )
        sys.exit(result.returncode)


if __name__ == "__main__":
    if "--district-only" in sys.argv:
        sys.argv.remove("--district-only")
        district_part(parse_args())
    else:
        main()
