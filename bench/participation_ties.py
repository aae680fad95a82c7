"""Benchmark: the co-participation network of a street (100,000 residents, 1,000,000
attendance records) and the people-to-visit list of one micro-grid from stored results.

    .venv/bin/python bench/participation_ties.py [--ties-residents 100000]
        [--ties-records 1000000] [--requests 300] [--database-url postgres://...] [--rebuild]

1. Uses a PostgreSQL database of its own (`linli_bench_ties`, or `--database-url` /
   `LINLI_BENCH_TIES_URL`), created and migrated if missing, and fills it once with a street
   of 20 communities, 100 micro-grids and 400 building groups (through `grid_unit_create`)
   and 100,000 residents (PostgreSQL `COPY`; 8% carry a visit tag such as 独居老人).
2. Generates the participation in memory, seeded, with the shape of community life: a third
   of the residents take part, some far more than others; occurrences of 5–50 attendees
   organised by a community, drawn 70% from the organiser's micro-grid, 25% from the rest
   of the community and 5% from anywhere in the street; deliberation topics with 30–90
   opinions each. Rows are (event, resident) exactly as `participation_rows` returns them.
3. Times the build: `compute_inputs` + `compute` (what `ties_rebuild` runs between loading
   and storing), then `ties_store` writing every snapshot and person to visit.
4. Times the stored list for a micro-grid lead: the selector alone, and
   `GET /api/v1/ties/isolated?unit_id=` through Django's test Client (session auth, scope,
   serialisation), 30 warm-up then `--requests` timed, p50/p95/max.

Loading the rows from SignUp/Opinion is not timed here (one indexed scan of the window's
check-ins; the million rows are not inserted into this database).
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import ensure_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_ties"
COMMUNITIES, MICRO_GRIDS, GROUPS = 20, 5, 4
VISIT_TAGS = ["elderly_alone", "empty_nest", "disabled", "serious_illness"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ties-residents", type=int, default=100_000)
    parser.add_argument("--ties-records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--database-url", default=os.environ.get("LINLI_BENCH_TIES_URL", DEFAULT_URL)
    )
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("LINLI_FIELD_KEY", "linli-bench-ties-field-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_registry(residents: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from linli.grids.models import GridUnit, Resident
    from linli.grids.services import grid_unit_create

    if Resident.objects.count() == residents:
        return
    if GridUnit.objects.exists():
        sys.exit("the benchmark database holds other data: run with --rebuild")
    started = time.perf_counter()
    street = grid_unit_create(level="street", code="TS", name="G街道", parent=None)
    block = grid_unit_create(level="block", code="TB", name="街区", parent=street)
    groups = []
    for c in range(COMMUNITIES):
        community = grid_unit_create(
            level="community", code=f"T{c:02d}", name=f"社区{c}", parent=block
        )
        for m in range(MICRO_GRIDS):
            micro = grid_unit_create(
                level="micro_grid", code=f"T{c:02d}-{m}", name=f"微网格{c}-{m}", parent=community
            )
            for g in range(GROUPS):
                groups.append(
                    grid_unit_create(
                        level="building_group",
                        code=f"T{c:02d}-{m}-{g}",
                        name=f"楼组{c}-{m}-{g}",
                        parent=micro,
                    )
                )
    now = timezone.now()
    rng = np.random.default_rng(1)
    tags = rng.random(residents) < 0.08
    per_group = residents // len(groups) + 1
    with connection.connection.cursor() as cursor:
        with cursor.copy(
            "COPY grids_building (id, grid_unit_id, grid_path, name, address) FROM STDIN"
        ) as copy:
            for index, group in enumerate(groups):
                copy.write_row((index + 1, group.pk, group.path, f"{index + 1}号楼", ""))
        with cursor.copy(
            "COPY grids_household (id, building_id, grid_path, room, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for index, group in enumerate(groups):
                copy.write_row((index + 1, index + 1, group.path, "101", now, now))
        with cursor.copy(
            "COPY grids_resident (id, household_id, grid_path, name, sex, birth_year, phone,"
            " id_number_encrypted, id_number_hash, id_number_masked, residency_type,"
            " party_membership, vulnerability_tags, created_at, updated_at) FROM STDIN"
        ) as copy:
            for index in range(residents):
                group = index // per_group
                # Synthetic placeholders: the benchmark never reads ID numbers.
                copy.write_row(
                    (index + 1, group + 1, groups[group].path, f"居民{index:06d}", "female",
                     1950, "", "x", f"bench{index}", "x", "registered", "",
                     f",{VISIT_TAGS[index % 4]}," if tags[index] else "", now, now)
                )  # fmt: skip
        for table in ("grids_building", "grids_household", "grids_resident"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    connection.connection.commit()
    print(f"  registry: {len(groups)} building groups, {residents:,} residents "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip


def synthetic_participation(residents, records: int, seed: int):
    """(event codes, resident ids) with the shape described in the module docstring."""
    rng = np.random.default_rng(seed)
    ids = np.array([rid for rid, _path, _tags in residents], dtype=np.int64)
    paths = [path.split("/") for _rid, path, _tags in residents]
    community = np.array([hash(parts[-4]) for parts in paths])
    micro = np.array([hash(parts[-3]) for parts in paths])
    active = rng.random(len(ids)) < 0.33
    # Some people come every week, most now and then: a heavy-tailed propensity.
    weight = np.where(active, rng.pareto(1.5, len(ids)) + 1, 0.0)
    by_micro, by_community = {}, {}
    for index in np.flatnonzero(active):
        by_micro.setdefault(micro[index], []).append(index)
        by_community.setdefault(community[index], []).append(index)
    micro_keys = list(by_micro)
    pools = {
        key: (np.array(members), weight[members] / weight[members].sum())
        for key, members in by_micro.items()
    }
    community_pools = {
        key: (np.array(members), weight[members] / weight[members].sum())
        for key, members in by_community.items()
    }
    all_active = np.flatnonzero(active)
    events, people = [], []
    total, occurrence = 0, 0
    opinion_budget = records // 30
    while total < records - opinion_budget:
        occurrence += 1
        size = int(rng.integers(5, 51))
        key = micro_keys[int(rng.integers(len(micro_keys)))]
        members, p = pools[key]
        own = rng.choice(members, size=min(len(members), int(size * 0.7)), replace=False, p=p)
        members_c, p_c = community_pools[community[members[0]]]
        near = rng.choice(members_c, size=int(size * 0.25), p=p_c)
        far = rng.choice(all_active, size=size - len(own) - len(near))
        chosen = np.concatenate([own, near, far])
        events.append(np.full(len(chosen), occurrence))
        people.append(ids[chosen])
        total += len(chosen)
    topic = 0
    while total < records:
        topic += 1
        size = min(int(rng.integers(30, 91)), records - total)
        members, p = community_pools[list(community_pools)[topic % len(community_pools)]]
        chosen = rng.choice(members, size=size, p=p)
        events.append(np.full(size, -topic))
        people.append(ids[chosen])
        total += size
    return np.concatenate(events), np.concatenate(people), occurrence, topic


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(call, requests: int, warmup: int = 30) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url, args.rebuild)
    setup_django(args.database_url)
    ensure_registry(args.ties_residents)

    from django.test import Client
    from django.utils import timezone

    from linli.accounts.models import User
    from linli.accounts.roles import Role
    from linli.grids.models import GridLevel, GridUnit
    from linli.grids.services import role_assign
    from linli.participation import ties

    street = GridUnit.objects.get(level=GridLevel.STREET)
    units, residents = ties.subtree_rows(unit=street)
    events, people, occurrences, topics = synthetic_participation(
        residents, args.ties_records, args.seed
    )
    print(f"  {len(events):,} records: {occurrences:,} occurrences, {topics:,} topics")

    started = time.perf_counter()
    inputs = ties.compute_inputs(units=units, residents=residents, people=people)
    prepared = time.perf_counter()
    result = ties.compute(**inputs, events=events, people=people)
    computed = time.perf_counter()
    ties.ties_store(
        unit=street,
        units=units,
        residents=residents,
        result=result,
        now=timezone.now(),
        window_days=ties.WINDOW_DAYS,
    )
    stored = time.perf_counter()
    isolated = sum(len(m.isolated) for uid, m in result.units.items() if uid in {
        u for u, _p, level in units if level == GridLevel.MICRO_GRID})  # fmt: skip
    print(
        f"build: inputs {prepared - started:.2f} s, compute {computed - prepared:.2f} s "
        f"({result.pairs:,} pairs expanded, {len(result.tied):,} residents with ties), "
        f"store {stored - computed:.2f} s ({len(result.units)} snapshots, {isolated:,} to visit);"
        f" total {stored - started:.2f} s"
    )

    micro = GridUnit.objects.filter(level=GridLevel.MICRO_GRID).order_by("path")[50]
    lead, created = User.objects.get_or_create(username="bench-ties-lead")
    if created:
        role_assign(user=lead, role=Role.MICRO_GRID_LEAD, grid_unit=micro, post="branch_secretary")
    lead = User.objects.get(pk=lead.pk)

    def selector_call():
        lead.__dict__.pop("_linli_scope", None)
        return list(ties.isolated_visible(user=lead, path=micro.path))

    rows = len(selector_call())
    client = Client()
    client.force_login(lead)
    url = f"/api/v1/ties/isolated?unit_id={micro.pk}&limit=200"
    assert client.get(url).status_code == 200
    for label, call in (
        ("selector isolated_visible", selector_call),
        ("GET /api/v1/ties/isolated", lambda: client.get(url)),
    ):
        samples = timed(call, args.requests)
        print(
            f"{label} ({micro.name}, {rows} rows): p50 {percentile(samples, 0.5):.1f} ms, "
            f"p95 {percentile(samples, 0.95):.1f} ms, max {max(samples):.1f} ms"
        )


if __name__ == "__main__":
    main()
