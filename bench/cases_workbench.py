"""Benchmark: a micro-grid lead's case workbench with 1,000,000 cases in PostgreSQL.

    .venv/bin/python bench/cases_workbench.py [--cases 1000000] [--requests 200] [--try-index]

Uses a database of its own (default postgres://postgres@127.0.0.1:5432/linli_bench_workbench,
override with --database-url or LINLI_BENCH_WORKBENCH_URL), created and migrated if missing.
The first run builds the data: a street of 2 blocks, 12 communities, 84 micro-grids and 336
building groups through the real service `grid_unit_create`, 1,344 buildings, then the cases
with PostgreSQL COPY in the order they would have been filed over three years: most of them
closed (some rejected or merged as duplicates), the last two months' still moving through the
loop, a few old ones stuck open; categories, SLAs, sources, escalations and ratings mixed as
in the seeded category tree. Later runs reuse the data when the case count matches
(--rebuild starts over).

It then times, for a micro-grid lead in the middle of the street, the selector
`linli.cases.selectors.workbench` (page 1 of 50 and its count, as the API pages it) and
`GET /api/v1/cases?limit=50` through Django's test Client (middleware, session auth, scope,
serialisation; no network), reports p50/p95/max and the query count, and prints EXPLAIN
ANALYZE of the page and count queries. --try-index creates the candidate index below in the
benchmark database, measures again, shows the new plans and drops the index again (the schema
stays what the migrations say); since the index was adopted (migration cases/0005) it finds
it in place and leaves it alone.
"""

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

from _common import candidate_index, ensure_database, isolate_environment, log_to_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_workbench"
BLOCKS = 2
COMMUNITIES_PER_BLOCK = 6
MICRO_GRIDS_PER_COMMUNITY = 7
GROUPS_PER_MICRO_GRID = 4
BUILDINGS_PER_GROUP = 4
HISTORY_DAYS = 3 * 365
RECENT_DAYS = 60
TARGET_P95_MS = 150

# The candidate: only open cases (a few percent of the table) keyed by place, so the
# workbench's scope + state filter is one short range and the count an index-only scan.
CANDIDATE_INDEX_NAME = "case_open_path_due"
CANDIDATE_INDEX_META = (
    'models.Index(fields=["grid_path", "due_at", "id"], '
    'condition=models.Q(state__in=OPEN_STATES), name="case_open_path_due")'
)

# Relative frequency of each minor category (the seeded tree's codes).
CATEGORY_WEIGHTS = {
    "SAF-01": 14,
    "SAF-02": 10,
    "SAF-03": 3,
    "ENV-01": 9,
    "ENV-02": 5,
    "ENV-03": 12,
    "ENV-04": 11,
    "HOU-01": 8,
    "HOU-02": 10,
    "NEI-01": 6,
    "SVC-01": 2,
    "OTH-01": 10,
}
SOURCES = [
    ("visit", 35),
    ("resident_report", 30),
    ("staff", 12),
    ("hotline_12345", 15),
    ("patrol", 7),
    ("emergency", 1),
]
# Cases filed in the last RECENT_DAYS days are still moving through the loop.
RECENT_STATES = [
    ("reported", 8),
    ("accepted", 6),
    ("dispatched", 10),
    ("in_progress", 12),
    ("returned", 2),
    ("resolved", 8),
    ("verified", 6),
    ("closed", 40),
    ("rejected", 5),
    ("duplicate", 3),
]
OLD_STATES = [
    ("closed", 915),
    ("rejected", 45),
    ("duplicate", 30),
    # Stuck: long overdue, still open.
    ("in_progress", 5),
    ("dispatched", 3),
    ("resolved", 2),
]
OPEN_STATE_NAMES = {
    "reported",
    "accepted",
    "dispatched",
    "in_progress",
    "returned",
    "resolved",
    "verified",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests (>= 100)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--database-url", default=os.environ.get("LINLI_BENCH_WORKBENCH_URL", DEFAULT_URL)
    )
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    parser.add_argument(
        "--try-index",
        action="store_true",
        help=f"also measure with the candidate index {CANDIDATE_INDEX_NAME} (then dropped)",
    )
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


def setup_django(url: str) -> None:
    isolate_environment(url)
    # WhiteNoise warns that var/static is missing; the benchmark serves no static files.
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["LINLI_FIELD_KEY"] = "linli-bench-workbench-field-key"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    log_to_file()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# Data --------------------------------------------------------------------------------------


def build_tree():
    """Grid units through the real service; returns (micro-grids, building groups)."""
    from linli.grids.services import grid_unit_create

    street = grid_unit_create(level="street", code="WS", name="工作台街道", parent=None)
    micro_grids, groups = [], []
    for b in range(BLOCKS):
        block = grid_unit_create(level="block", code=f"WS{b}", name=f"第{b + 1}街区", parent=street)
        for c in range(COMMUNITIES_PER_BLOCK):
            community = grid_unit_create(
                level="community", code=f"{block.code}C{c}", name=f"{b}-{c}社区", parent=block
            )
            for m in range(MICRO_GRIDS_PER_COMMUNITY):
                micro = grid_unit_create(
                    level="micro_grid",
                    code=f"{community.code}M{m}",
                    name=f"第{m + 1}微网格",
                    parent=community,
                )
                micro_grids.append(micro)
                for g in range(GROUPS_PER_MICRO_GRID):
                    groups.append(
                        grid_unit_create(
                            level="building_group",
                            code=f"{micro.code}G{g}",
                            name=f"{g + 1}号楼组",
                            parent=micro,
                        )
                    )
    return street, micro_grids, groups


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def copy_cases(street, micro_grids: list, groups: list, cases: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from linli.cases.models import CaseCategory

    rng = random.Random(20261127)
    now = timezone.now()
    start = now - timedelta(days=HISTORY_DAYS)
    categories = {
        category.code: category
        for category in CaseCategory.objects.filter(code__in=CATEGORY_WEIGHTS)
    }
    category_pairs = [(categories[code], weight) for code, weight in CATEGORY_WEIGHTS.items()]
    units = {unit.pk: unit for unit in [street, *micro_grids, *groups]}
    parents = {unit.pk: unit.parent_id for unit in units.values()}
    from linli.grids.models import GridUnit

    for unit in GridUnit.objects.filter(level__in=["community", "block"]):
        units[unit.pk] = unit
        parents[unit.pk] = unit.parent_id

    buildings = []
    for group in groups:
        for index in range(BUILDINGS_PER_GROUP):
            buildings.append((len(buildings) + 1, group, f"{group.code}-{index + 1}号楼"))
    buildings_of = {}
    for building_id, group, _name in buildings:
        buildings_of.setdefault(group.pk, []).append(building_id)
    recent_from = now - timedelta(days=RECENT_DAYS)
    step = (now - start) / cases

    def owner_at(grid_unit, level_steps: int):
        unit = grid_unit
        for _ in range(level_steps):
            parent = parents.get(unit.pk)
            if parent is None:
                break
            unit = units[parent]
            if unit.level == "block":
                unit = units[parents[unit.pk]]  # no post handles cases at the block
        return unit

    def rows():
        for index in range(cases):
            case_id = index + 1
            created = start + step * index + timedelta(seconds=rng.uniform(0, 60))
            category = weighted(rng, category_pairs)
            source = weighted(rng, SOURCES)
            state = weighted(rng, RECENT_STATES if created >= recent_from else OLD_STATES)
            if state == "duplicate" and case_id == 1:
                state = "closed"
            group = groups[rng.randrange(len(groups))]
            if rng.random() < 0.8:
                grid_unit, building_id = group, rng.choice(buildings_of[group.pk])
            else:
                grid_unit, building_id = units[group.parent_id], None
            escalations = 0 if rng.random() < 0.9 else (1 if rng.random() < 0.75 else 2)
            owner = owner_at(grid_unit, escalations)
            due = created + timedelta(hours=category.sla_hours)
            original_due = due
            extensions = 1 if rng.random() < 0.04 else 0
            due += timedelta(hours=category.sla_hours * extensions)
            accepted = created + timedelta(hours=rng.uniform(0.2, 20))
            if state == "reported":
                accepted = None
            resolved = closed = None
            satisfaction = None
            if state in ("resolved", "verified", "closed"):
                resolved = accepted + timedelta(hours=rng.uniform(1, category.sla_hours * 1.2))
            if state == "closed":
                closed = resolved + timedelta(hours=rng.uniform(1, 72))
                if rng.random() < 0.7:
                    satisfaction = rng.choices([1, 2, 3, 4, 5], weights=[2, 3, 10, 35, 50])[0]
            if state in ("rejected", "duplicate"):
                accepted = None
            finished = closed or resolved or accepted or created
            yield (
                case_id,
                f"A{created:%Y%m%d}{case_id:07d}",
                source,
                f"12345-{case_id:08d}" if source == "hotline_12345" else "",
                category.pk,
                f"{category.name_zh} {case_id}",
                f"{category.acceptance_condition} 位置见楼栋。",
                grid_unit.pk,
                grid_unit.path,
                building_id,
                None,
                None,
                "normal" if rng.random() < 0.85 else rng.choice(["low", "high", "urgent"]),
                state,
                owner.pk,
                category.usual_handler,
                due,
                original_due,
                owner.level,
                extensions,
                False,
                0,
                case_id - 1 if state == "duplicate" else None,
                satisfaction,
                "",
                accepted,
                resolved,
                closed,
                1 + (state not in ("reported",)) + escalations + extensions,
                created,
                finished,
            )

    raw = connection.connection
    started = time.perf_counter()
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY grids_building (id, grid_unit_id, grid_path, name, address) FROM STDIN"
        ) as copy:
            for building_id, group, name in buildings:
                copy.write_row((building_id, group.pk, group.path, name, ""))
        with cursor.copy(
            "COPY cases_case (id, reference, source, hotline_reference, category_id, title,"
            " description, grid_unit_id, grid_path, building_id, latitude, longitude, priority,"
            " state, owner_unit_id, handler_text, due_at, original_due_at, escalation_level,"
            " extension_count, extension_pending, reopen_count, duplicate_of_id, satisfaction,"
            " satisfaction_comment, accepted_at, resolved_at, closed_at, version, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for row in rows():
                copy.write_row(row)
        print(f"  {cases:,} cases copied in {time.perf_counter() - started:.1f} s")
        for table in ("grids_building", "cases_case"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    raw.commit()
    analyze_started = time.perf_counter()
    import psycopg

    # VACUUM runs outside a transaction: a connection of its own, in autocommit mode.
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        # What autovacuum would have done by the time a table has grown to this size: the
        # visibility map (index-only scans) and the planner's statistics.
        conn.execute("VACUUM ANALYZE cases_case")
        conn.execute("VACUUM ANALYZE grids_building")
    print(f"  VACUUM ANALYZE in {time.perf_counter() - analyze_started:.1f} s")


def ensure_data(cases: int) -> None:
    from django.db import transaction

    from linli.cases.models import Case
    from linli.grids.models import GridUnit

    if Case.objects.count() == cases:
        print(f"Reusing {cases:,} cases already in the benchmark database.")
        return
    if GridUnit.objects.exists():
        sys.exit(
            "The benchmark database holds other data; run again with --rebuild, or give the benchmark "
            "a database of its own (--database-url)."
        )
    print(f"Generating {cases:,} cases ...")
    started = time.perf_counter()
    with transaction.atomic():
        street, micro_grids, groups = build_tree()
    print(f"  {GridUnit.objects.count():,} grid units in {time.perf_counter() - started:.1f} s")
    copy_cases(street, micro_grids, groups, cases)
    print(f"Generated in {time.perf_counter() - started:.1f} s")


def bench_lead():
    """A micro-grid lead in the middle of the street, holding the post through the service."""
    from linli.accounts.models import User
    from linli.accounts.roles import Role
    from linli.grids.models import GridUnit
    from linli.grids.services import role_assign

    micro = GridUnit.objects.get(
        code=f"WS{BLOCKS // 2}C{COMMUNITIES_PER_BLOCK // 2}M{MICRO_GRIDS_PER_COMMUNITY // 2}"
    )
    user, _ = User.objects.get_or_create(username="bench_micro_grid_lead")
    role_assign(user=user, role=Role.MICRO_GRID_LEAD, grid_unit=micro)
    return user, micro


# Measurement -------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        call()
    samples, cpu = [], []
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "p50": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "max": max(samples),
        # This process's CPU (Django, the ORM, serialisation): the part that does not wait
        # for PostgreSQL, nor for other programs on a busy machine.
        "cpu": statistics.median(cpu),
    }


def measure(user, requests: int, warmup: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from linli.cases import selectors
    from linli.grids.selectors import scope_for

    def selector_page():
        # A fresh user object each time: scope_for caches the scope on it, per request.
        fresh = type(user).objects.get(pk=user.pk)
        cases = selectors.workbench(user=fresh)
        page = list(cases[:50])
        count = cases.count()
        assert len(page) == min(50, count), (len(page), count)

    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)

    def api_page():
        response = client.get("/api/v1/cases?limit=50")
        assert response.status_code == 200, (response.status_code, response.content[:200])
        body = response.json()
        assert len(body["items"]) == min(50, body["count"]), body["count"]

    results = {
        "selector": timed(selector_page, requests, warmup),
        "api": timed(api_page, requests, warmup),
    }
    with CaptureQueriesContext(connection) as captured:
        api_page()
    results["api_queries"] = len(captured.captured_queries)
    fresh = type(user).objects.get(pk=user.pk)
    scope_for(fresh)
    with CaptureQueriesContext(connection) as captured:
        cases = selectors.workbench(user=fresh)
        list(cases[:50])
        results["open_in_scope"] = cases.count()
    results["sql"] = [query["sql"] for query in captured.captured_queries]
    return results


def explain(sql_statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for label, sql in zip(("page", "count"), sql_statements, strict=True):
            # Twice: the first run may read pages into the cache; the second is the warm plan.
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print(
                f"\nEXPLAIN ANALYZE, {label} query:\n  {sql[:400]}{'…' if len(sql) > 400 else ''}"
            )
            for (line,) in cursor.fetchall():
                print(f"    {line}")


def report(label: str, results: dict) -> None:
    for name, route in (("selector", "selectors.workbench"), ("api", "GET /api/v1/cases")):
        stats = results[name]
        print(
            f"{label:<18} {route:<22} {stats['p50']:>7.1f} {stats['p95']:>7.1f} {stats['max']:>7.1f}"
            f" {stats['cpu']:>13.1f}"
        )


def main() -> None:
    args = parse_args()
    if args.requests < 100:
        sys.exit("--requests must be at least 100")
    ensure_database(args.database_url, args.rebuild)
    setup_django(args.database_url)

    from django.db import connection

    from linli.cases.models import Case

    ensure_data(args.cases)
    user, micro = bench_lead()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('cases_case'))")
        size = cursor.fetchone()[0]
    in_micro = Case.objects.filter(grid_path__startswith=micro.path).count()
    print(
        f"\nPostgreSQL {connection.pg_version // 10000}, database "
        f"{connection.settings_dict['NAME']}, cases_case {size} with indexes"
    )
    with open("/proc/loadavg") as loadavg:
        print(f"load average {' '.join(loadavg.read().split()[:3])}")
    results = measure(user, args.requests, args.warmup)
    print(
        f"micro-grid lead on {micro.code}: {in_micro:,} cases in the micro-grid, "
        f"{results['open_in_scope']:,} open (the workbench's count); "
        f"{args.requests} timed requests after {args.warmup} warm-up\n"
    )
    header = (
        f"{'index':<18} {'route':<22} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
        f" {'Python CPU ms':>13}"
    )
    print(header)
    print("-" * len(header))
    report("as migrated", results)
    print(f"\nqueries per API request: {results['api_queries']}")
    explain(results["sql"])
    # A missed target is reported, not an error: timings depend on what else the machine runs.
    verdict = "met" if results["api"]["p95"] < TARGET_P95_MS else "NOT met"
    print(
        f"\nmicro-grid lead, GET /api/v1/cases?limit=50: p95 {results['api']['p95']:.1f} ms "
        f"(target < {TARGET_P95_MS} ms): {verdict}"
    )

    if args.try_index:
        open_states = ", ".join(f"'{state}'" for state in sorted(OPEN_STATE_NAMES))
        started = time.perf_counter()
        with candidate_index(
            connection,
            CANDIDATE_INDEX_NAME,
            f'CREATE INDEX "{CANDIDATE_INDEX_NAME}" ON cases_case (grid_path, due_at, id)'
            f" WHERE state IN ({open_states})",
        ) as built:
            if not built:
                # Adopted since (migration cases/0005): "as migrated" above already has it.
                print(f"\n{CANDIDATE_INDEX_NAME} is already in the schema: nothing to try.")
                return
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE cases_case")
                cursor.execute(f"SELECT pg_size_pretty(pg_relation_size('{CANDIDATE_INDEX_NAME}'))")
                index_size = cursor.fetchone()[0]
            print(
                f"\nWith the candidate index ({index_size}, built in "
                f"{time.perf_counter() - started:.1f} s):\n  {CANDIDATE_INDEX_META}\n"
            )
            indexed = measure(user, args.requests, args.warmup)
            print(header)
            print("-" * len(header))
            report("as migrated", results)
            report(CANDIDATE_INDEX_NAME, indexed)
            explain(indexed["sql"])


if __name__ == "__main__":
    main()
