"""Benchmark: the scoped resident list (page 1, 50 rows) with 1,000,000 residents in PostgreSQL.

    .venv/bin/python bench/list_residents.py [--residents 1000000] [--requests 300]

Uses a database of its own (default postgres://postgres@127.0.0.1:5432/linli_bench_list,
override with --database-url). The first run builds the data: the grid tree (street →
blocks → communities → 7 micro-grids each → building groups) through the real services,
then buildings, households and residents with PostgreSQL COPY, ID numbers encrypted and
hashed by linli.accounts.privacy exactly as resident_create does. Later runs reuse it
(--rebuild starts over).

It then requests GET /api/v1/residents as a micro-grid lead through Django's test Client
(the full middleware stack, session auth, selectors, serialisation; no network), reports
p50/p95 over the timed requests and the query count for limit 5, 50 and 200, and does the
same for a secretary, a street administrator and the web list page when that page exists.
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

from _common import ensure_database, isolate_environment, log_to_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_list"

# The shape of the generated street, in the proportions of the demo community
# (7 micro-grids a community, ~17 buildings a micro-grid, ~23 households a building,
# ~2.3 residents a household).
RESIDENTS_PER_BLOCK = 62_500  # 16 blocks for a million
COMMUNITIES_PER_BLOCK = 10
MICRO_GRIDS_PER_COMMUNITY = 7
GROUPS_PER_MICRO_GRID = 4
BUILDINGS_PER_GROUP = 4
HOUSEHOLDS_PER_BUILDING = 24
TAGS = ["elderly_alone", "empty_nest", "disabled", "serious_illness", "low_income"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300, help="timed requests (>= 200)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument(
        "--database-url", default=os.environ.get("LINLI_BENCH_LIST_URL", DEFAULT_URL)
    )
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


def setup_django(url: str) -> None:
    isolate_environment(url)
    # WhiteNoise warns that var/static is missing; the benchmark serves no static files.
    warnings.filterwarnings("ignore", message="No directory at")
    # A fixed key of the benchmark's own, so that its rows stay readable between runs.
    os.environ["LINLI_FIELD_KEY"] = "linli-bench-list-field-key"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    log_to_file()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings
    from django.test.utils import override_settings

    # Pages link static files through the manifest, which only `collectstatic` writes; the
    # plain storage gives the same page without touching var/static.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()


# Data --------------------------------------------------------------------------------------


def id_number_for(index: int) -> tuple[str, int]:
    """A distinct, checksum-correct ID number for each index < 1,000,000, and its birth year."""
    from datetime import date, timedelta

    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    born = date(1940, 1, 1) + timedelta(days=(index // 1000) * 20)
    body = f"310101{born:%Y%m%d}{index % 1000:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11], born.year


def build_tree(blocks: int) -> list:
    """Grid units through the real service; returns the building groups in order."""
    from linli.grids.services import grid_unit_create

    street = grid_unit_create(level="street", code="BS", name="基准街道", parent=None)
    groups = []
    for b in range(blocks):
        block = grid_unit_create(
            level="block", code=f"BS{b:02d}", name=f"第{b + 1}街区", parent=street
        )
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
                for g in range(GROUPS_PER_MICRO_GRID):
                    groups.append(
                        grid_unit_create(
                            level="building_group",
                            code=f"{micro.code}G{g}",
                            name=f"{g + 1}号楼组",
                            parent=micro,
                        )
                    )
    return groups


def copy_registry(groups: list, residents: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from linli.accounts.privacy import encrypt_text, id_number_hash, mask_id_number

    now = timezone.now()
    buildings, households = [], []
    for group in groups:
        for _ in range(BUILDINGS_PER_GROUP):
            building_id = len(buildings) + 1
            buildings.append((building_id, group.pk, group.path, f"{building_id}号楼"))
            for room_index in range(HOUSEHOLDS_PER_BUILDING):
                room = f"{room_index // 4 + 1}0{room_index % 4 + 1}"
                households.append((len(households) + 1, building_id, group.path, room))
    household_count = len(households)

    def resident_rows():
        for index in range(residents):
            household_id, _, path, _ = households[index % household_count]
            id_number, birth_year = id_number_for(index)
            yield (
                index + 1,
                household_id,
                path,
                f"居民{index:07d}",
                "male" if index % 2 else "female",
                birth_year,
                f"13{index:09d}",
                encrypt_text(id_number),
                id_number_hash(id_number),
                mask_id_number(id_number),
                ("registered", "registered", "permanent", "migrant")[index % 4],
                ("", "", "", "", "in_service", "retired", "floating")[index % 7]
                if index % 3 == 0
                else "",
                f",{TAGS[index % len(TAGS)]}," if index % 10 == 0 else "",
                now,
                now,
            )

    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY grids_building (id, grid_unit_id, grid_path, name, address) FROM STDIN"
        ) as copy:
            for row in buildings:
                copy.write_row((*row, ""))
        with cursor.copy(
            "COPY grids_household (id, building_id, grid_path, room, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for row in households:
                copy.write_row((*row, now, now))
        started = time.perf_counter()
        with cursor.copy(
            "COPY grids_resident (id, household_id, grid_path, name, sex, birth_year, phone,"
            " id_number_encrypted, id_number_hash, id_number_masked, residency_type,"
            " party_membership, vulnerability_tags, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in resident_rows():
                copy.write_row(row)
        print(f"  residents copied in {time.perf_counter() - started:.1f} s")
        for table in ("grids_building", "grids_household", "grids_resident"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    raw.commit()
    print(
        f"  {len(buildings):,} buildings, {household_count:,} households, {residents:,} residents"
    )


def ensure_data(residents: int) -> None:
    from django.db import transaction

    from linli.grids.models import GridUnit, Resident

    if Resident.objects.count() == residents:
        print(f"Reusing {residents:,} residents already in the benchmark database.")
        return
    if GridUnit.objects.exists():
        sys.exit(
            "The benchmark database holds other data; run again with --rebuild, or give the benchmark "
            "a database of its own (--database-url)."
        )
    print(f"Generating {residents:,} residents ...")
    started = time.perf_counter()
    with transaction.atomic():
        groups = build_tree(max(1, -(-residents // RESIDENTS_PER_BLOCK)))
    print(f"  {GridUnit.objects.count():,} grid units in {time.perf_counter() - started:.1f} s")
    copy_registry(groups, residents)
    print(f"Generated in {time.perf_counter() - started:.1f} s")


def bench_users() -> dict:
    """One user per measured role, holding their post through the real service."""
    from linli.accounts.models import User
    from linli.accounts.roles import Role
    from linli.grids.models import GridUnit
    from linli.grids.services import role_assign

    # A micro-grid in the middle of the street, and its community.
    blocks = GridUnit.objects.filter(level="block").count()
    micro = GridUnit.objects.get(code=f"BS{blocks // 2:02d}C{COMMUNITIES_PER_BLOCK // 2}M3")
    posts = {
        "micro_grid_lead": (Role.MICRO_GRID_LEAD, micro),
        "secretary": (Role.SECRETARY, micro.parent),
        "street_admin": (Role.STREET_ADMIN, GridUnit.objects.get(code="BS")),
    }
    users = {}
    for name, (role, unit) in posts.items():
        user, _ = User.objects.get_or_create(username=f"bench_{name}")
        role_assign(user=user, role=role, grid_unit=unit)
        users[name] = user
    return users


# Measurement -------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(client, url: str, requests: int, warmup: int, check) -> dict:
    for _ in range(warmup):
        check(client.get(url))
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        check(response)
    return {
        "p50": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "max": max(samples),
        "n": len(samples),
    }


def query_counts(client, url_for) -> dict[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for limit in (5, 50, 200):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url_for(limit))
        assert response.status_code == 200, response.status_code
        counts[limit] = len(captured.captured_queries)
    return counts


def api_page_check(response) -> None:
    assert response.status_code == 200, (response.status_code, response.content[:200])
    assert len(response.json()["items"]) == 50


def page_check(response) -> None:
    assert response.status_code == 200, response.status_code


def web_list_url() -> str | None:
    from django.urls import Resolver404, resolve

    try:
        resolve("/registry/residents/")
    except Resolver404:
        return None
    return "/registry/residents/"


def main() -> None:
    args = parse_args()
    if args.requests < 200:
        sys.exit("--requests must be at least 200")
    ensure_database(args.database_url, args.rebuild)
    setup_django(args.database_url)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from linli.grids.selectors import residents_visible

    ensure_data(args.residents)
    users = bench_users()
    print(
        f"\nPostgreSQL {connection.pg_version // 10000}, database {connection.settings_dict['NAME']}"
    )
    print(f"{args.requests} timed requests after {args.warmup} warm-up requests each\n")

    rows = []
    web_url = web_list_url()
    for name, user in users.items():
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        in_scope = residents_visible(user=user).count()
        stats = measure(
            client, "/api/v1/residents?limit=50", args.requests, args.warmup, api_page_check
        )
        counts = query_counts(client, lambda limit: f"/api/v1/residents?limit={limit}")
        rows.append((name, "GET /api/v1/residents", in_scope, stats, counts))
        if web_url and name == "micro_grid_lead":
            stats = measure(client, web_url, args.requests, args.warmup, page_check)
            with CaptureQueriesContext(connection) as captured:
                page_check(client.get(web_url))
            rows.append((name, f"GET {web_url}", in_scope, stats, len(captured)))

    header = f"{'role':<16} {'route':<28} {'in scope':>9} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  queries (limit 5/50/200)"
    print(header)
    print("-" * len(header))
    for name, route, in_scope, stats, counts in rows:
        if isinstance(counts, dict):
            query_text = "/".join(str(counts[limit]) for limit in (5, 50, 200))
        else:
            query_text = f"{counts} (one page size)"
        print(
            f"{name:<16} {route:<28} {in_scope:>9,} {stats['p50']:>7.1f} {stats['p95']:>7.1f}"
            f" {stats['max']:>7.1f}  {query_text}"
        )
    if not web_url:
        print("\n(/registry/residents/ is not routed in this checkout; only the API was measured)")
    lead = rows[0]
    verdict = "PASS" if lead[3]["p95"] < 100 and len(set(lead[4].values())) == 1 else "FAIL"
    print(
        f"\nmicro-grid lead, page 1 of 50: p95 {lead[3]['p95']:.1f} ms (target < 100 ms), "
        f"queries {lead[4][5]}/{lead[4][50]}/{lead[4][200]} for limit 5/50/200: {verdict}"
    )


if __name__ == "__main__":
    main()
