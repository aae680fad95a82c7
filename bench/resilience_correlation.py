"""Benchmark (evidence): do communities with a higher capacity index reach full welfare
contact sooner in a simulated drill?

    .venv/bin/python bench/resilience_correlation.py [--communities 32] [--seed 2026]
        [--drill-seed 1] [--drill-seeds 20] [--database-url postgres://...]

1. Uses a PostgreSQL database of its own (`linli_bench_correlation`, or `--database-url` /
   `LINLI_BENCH_CORRELATION_URL`), dropped and recreated on every run so each run starts
   from nothing, and migrated.
2. Generates `--communities` communities side by side in one block with the generator of
   the monotonicity suite (linli/resilience/tests/synthetic.py: 60 households, ~125
   residents, ~24 of them vulnerable; posts, visits, cases, partners, supplies,
   participation all at their baseline). Each community gets its own registry seed and
   capacity knobs drawn from `--seed`: 2–24 volunteers, 40–100% of them in the care team
   (target 12), 1–12 distinct skills between them, one or two partner units per critical
   category, 50–100% of supplies at their minimum, 30–100% of needs fulfilled. The last
   three are capacity a drill does not use: they keep the index from being a mere count of
   volunteers (`--workforce-only` keeps them at the baseline instead).
3. Computes every community's index over the quarter up to now BEFORE any drill exists, so
   the drill indicators (C_DRILL_90 / C_DRILL_100) have no value and cannot feed the
   correlation (checked).
4. Runs `drill_simulate` (the `linli drill simulate` service) once per community with the
   community's welfare-check plan, grade IV and the model's default assumptions with a fixed
   seed (`--drill-seed`): 5% of volunteers never respond, 15% of doors go unanswered,
   three attempts 30 minutes apart.
5. Reports Spearman's rank correlation (average ranks for ties) between the capacity index
   and the time to full welfare contact, taken as `all_settled_at`: the minute by which
   every targeted household was contacted or, after three unanswered attempts, escalated to
   the micro-grid lead. `time_to(1.0)` is often None with unanswered doors, so it is not
   the measure; a community where some household has no volunteer at all (all_settled_at
   None) ranks slowest. Also reported: the same against the time to 95% and 90% contact,
   for the overall index, for the volunteers-per-100-vulnerable indicator alone, and how
   rho spreads when the same drills are run with `--drill-seeds` different seeds (the
   index stays as computed in step 3).
"""

import argparse
import os
import random
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

from _common import ensure_database, isolate_environment, log_to_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_correlation"
PERIOD_DAYS = 91


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=32)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drill-seed", type=int, default=1)
    # Further drills with seeds drill-seed+1 … drill-seed+N−1, for how much rho depends on
    # the luck of one drill (0: the one drill only).
    parser.add_argument("--drill-seeds", type=int, default=20)
    # Vary only the workforce (volunteers, care team, skills); partners, supplies and needs
    # stay at the generator's baseline.
    parser.add_argument("--workforce-only", action="store_true")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LINLI_BENCH_CORRELATION_URL", DEFAULT_URL),
    )
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


def setup_django(url: str) -> None:
    isolate_environment(url)
    os.environ["LINLI_FIELD_KEY"] = "linli-bench-correlation-field-key"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    log_to_file()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def knobs_for(rng: random.Random, workforce_only: bool):
    from linli.resilience.tests.synthetic import Knobs

    # Drawn in the same order either way, so both modes give the same workforce.
    workforce = {
        "volunteers": rng.randint(2, 24),
        "care_team_share": rng.uniform(0.4, 1.0),
        "care_team_target": 12,
        "skills": rng.randint(1, 12),
    }
    rest = {
        "providers_per_category": rng.choice((1, 2)),
        "supplies_ok_share": rng.choice((0.5, 0.75, 1.0)),
        "needs_fulfilled_share": rng.uniform(0.3, 1.0),
    }
    return Knobs(**workforce) if workforce_only else Knobs(**workforce, **rest)


def main() -> int:
    args = parse_args()
    if args.communities < 2:
        print("need at least two communities")
        return 2
    ensure_database(args.database_url, rebuild=True)
    started = time.perf_counter()
    setup_django(args.database_url)
    print(f"migrated in {time.perf_counter() - started:.0f} s", flush=True)

    from django.utils import timezone

    from linli.emergency.drills import drill_simulate
    from linli.emergency.models import Simulation
    from linli.grids.services import grid_unit_create
    from linli.resilience.engine import context_for
    from linli.resilience.services import compute_all
    from linli.resilience.tests.synthetic import community_build, spearman
    from linli.volunteers.models import TeamMembership

    rng = random.Random(f"resilience-correlation:{args.seed}")
    street = grid_unit_create(level="street", code="RC", name="相关性街道", parent=None)
    block = grid_unit_create(level="block", code="RCB", name="相关性街区", parent=street)
    communities = []
    started = time.perf_counter()
    for number in range(1, args.communities + 1):
        knobs = knobs_for(rng, args.workforce_only)
        communities.append(
            community_build(
                knobs=knobs, code=f"R{number:02d}", seed=args.seed * 1000 + number, parent=block
            )
        )
    generated = time.perf_counter() - started
    print(f"generated {len(communities)} communities in {generated:.0f} s", flush=True)

    # 3. The index first, while no drill exists.
    assert not Simulation.objects.exists()
    end = timezone.now() + timedelta(seconds=1)
    computed = compute_all(context_for(street, end=end, days=PERIOD_DAYS))
    rows = []
    for community in communities:
        path = community.unit.path
        assert computed.measures["C_DRILL_90"][path].value is None
        assert computed.measures["C_DRILL_100"][path].value is None
        care = TeamMembership.objects.filter(
            team__community=community.unit, team__kind="care", ended_at__isnull=True
        ).count()
        rows.append(
            {
                "code": community.unit.code,
                "volunteers": community.knobs.volunteers,
                "care": care,
                "skills": community.knobs.skills,
                "providers": community.knobs.providers_per_category,
                "capacity": computed.index[path]["capacity"],
                "overall": computed.index[path]["overall"],
                "per_100": computed.measures["C_VOLUNTEERS_PER_100"][path].value,
                "staffing": computed.measures["C_TEAM_STAFFING"][path].value,
                "skill_cover": computed.measures["C_CRITICAL_SKILLS"][path].value,
                "community": community,
            }
        )

    # 4. One simulated drill per community, the same seed for all.
    started = time.perf_counter()
    for row in rows:
        community = row.pop("community")
        simulation = drill_simulate(
            actor=None,
            plan=community.plan,
            scope=community.unit,
            grade=4,
            parameters={"seed": args.drill_seed},
        )
        row["targeted"] = simulation.targeted_households
        row["to_90"] = simulation.minutes_to_90
        row["to_95"] = simulation.result["time_to"]["0.95"]
        row["to_100"] = simulation.minutes_to_100
        row["settled"] = simulation.result["all_settled_at"]
        row["escalated"] = simulation.result["escalated_households"]
    print(f"simulated {len(rows)} drills in {time.perf_counter() - started:.1f} s", flush=True)
    # The same drills with other seeds (the index is unchanged: it was computed above).
    settled_by_seed = {args.drill_seed: [row["settled"] for row in rows]}
    for seed in range(args.drill_seed + 1, args.drill_seed + args.drill_seeds):
        settled_by_seed[seed] = [
            drill_simulate(
                actor=None,
                plan=community.plan,
                scope=community.unit,
                grade=4,
                parameters={"seed": seed},
            ).result["all_settled_at"]
            for community in communities
        ]

    # 5. "Never" (None) ranks slower than any time.
    def minutes(value):
        return float("inf") if value is None else value

    def rho(index: str, time_key: str) -> float | None:
        return spearman([row[index] for row in rows], [minutes(row[time_key]) for row in rows])

    never = sum(1 for row in rows if row["settled"] is None)
    no_full = sum(1 for row in rows if row["to_100"] is None)
    print()
    print(
        f"n = {len(rows)} communities, drill seed {args.drill_seed}, generator seed {args.seed}"
        + (", workforce only" if args.workforce_only else "")
    )
    print(
        f"Spearman rho(capacity index, all settled)  = {rho('capacity', 'settled'):+.3f}"
        f"  ({never} never settled)"
    )
    print(f"Spearman rho(capacity index, time to 95%)  = {rho('capacity', 'to_95'):+.3f}")
    print(f"Spearman rho(capacity index, time to 90%)  = {rho('capacity', 'to_90'):+.3f}")
    print(f"Spearman rho(overall index, all settled)   = {rho('overall', 'settled'):+.3f}")
    print(
        "Spearman rho(volunteers per 100 vulnerable, all settled) = "
        f"{rho('per_100', 'settled'):+.3f} (the one capacity indicator a drill depends on most)"
    )
    print(f"time_to(1.0) is None (some door never answered) in {no_full} of {len(rows)}")
    if args.drill_seeds > 1:
        spread = sorted(
            spearman(
                [row["capacity"] for row in rows],
                [minutes(settled) for settled in settled_by_seed[seed]],
            )
            for seed in settled_by_seed
        )
        print(
            f"over {len(spread)} drill seeds ({args.drill_seed}…{args.drill_seed + len(spread) - 1})"
            f": rho(capacity index, all settled) median {spread[len(spread) // 2]:+.3f}, "
            f"min {spread[0]:+.3f}, max {spread[-1]:+.3f}"
        )
    print()
    print(
        "| community | volunteers | in care team | skills | providers | volunteers per 100 "
        "vulnerable | team staffing | critical skills | capacity index | targeted households "
        "| min to 90% | min to 95% | all settled (min) | escalated |"
    )
    print("|---|" + "---:|" * 13)

    def fmt(value, digits=1):
        return "—" if value is None else f"{value:.{digits}f}"

    for row in sorted(rows, key=lambda row: row["capacity"]):
        print(
            f"| {row['code']} | {row['volunteers']} | {row['care']} | {row['skills']} | "
            f"{row['providers']} | {fmt(row['per_100'])} | {fmt(row['staffing'], 2)} | "
            f"{fmt(row['skill_cover'], 2)} | {row['capacity']:.3f} | {row['targeted']} | "
            f"{fmt(row['to_90'])} | {fmt(row['to_95'])} | {fmt(row['settled'])} | "
            f"{row['escalated']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
