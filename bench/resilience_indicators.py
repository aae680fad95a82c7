"""Benchmark: the resilience indicators of a whole district (issue 7) — full recomputation,
the dashboard from snapshots and the 民情 map GeoJSON of one community.

    .venv/bin/python bench/resilience_indicators.py [--requests 300] [--database-url ...]
        [--template-url ...] [--rebuild] [--explain] [--try-index] [--skip-pages]

1. Uses a PostgreSQL database of its own (`linli_bench_resilience`, or `--database-url` /
   `LINLI_BENCH_RESILIENCE_URL`). When missing it is copied from the district database that
   `linli demo --residents 1000000` generated (`--template-url`, default
   `linli_bench_district`; `CREATE DATABASE … TEMPLATE`, retried while the template is in
   use); `--rebuild` drops it first. The field key is the district's (`bench-district-key`).
   Without that database it runs `linli demo --no-serve --residents 1000000` into its own.
2. Fills once (skipped when the cases are there) a year of synthetic activity, seeded, with
   PostgreSQL COPY:
   - ~5,000,000 visits (寻访) by each building group's leader: vulnerable households about
     three times as often as others, each micro-grid with its own diligence (a few hardly
     visit at all), door/phone/WeChat, 12% with a finding that needs follow-up;
   - ~2,000,000 cases over the year: every follow-up finding becomes a case a few hours
     later (source visit, linked to the visit), the rest resident reports, staff entries,
     12345 transfers, patrols and emergencies; handling time against each category's time
     limit varies by community, ~13% late; late cases are escalated (one level, some two)
     with an `escalate` timeline event; cases filed recently are still open, a few old ones
     stuck open (overdue), 3% rejected, 1.5% duplicates; 65% of closed cases rated, with
     a `rate` timeline event;
   - ~1,000,000 attendances: ~15% of residents (fewer in a few communities) get a login
     (User + ResidentAccount), each community organises activities of every kind with
     occurrences over the year, each attended by 8–45 of its participants drawn with a
     heavy-tailed propensity (a few come every week), checked in; plus 4% cancelled
     sign-ups.
3. Times the full recomputation `snapshots_take_all()` (every street, every registered
   indicator, stored) against the 60 s target, then the same split into `compute_all` and
   `snapshot_store`, and each indicator's `compute` alone (with its query count and
   slowest query; `--explain` prints that query's plan for indicators over 2 s). Also two
   proposed changes, measured here without touching linli/: the store with COPY in place
   of `bulk_create`, and one context for the whole district (root path "/") in place of one
   per street (checked to give exactly the same values).
4. Times the dashboard page (`resilience:dashboard`) from the stored snapshots for the
   secretary of one community and a street administrator, through Django's test Client,
   30 warm-up then `--requests` timed, p50/p95/max (target p95 300 ms), and the map GeoJSON
   of one community (target 100 ms). `--try-index` then creates a candidate index on
   grids_visit in the benchmark database, times the map and the visit indicators again,
   and drops it.
"""

import argparse
import os
import resource
import sys
import time
import warnings
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from _common import (
    candidate_index,
    database_create,
    database_drop,
    ensure_database,
    isolate_environment,
    log_to_file,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_resilience"
TEMPLATE_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_district"
FIELD_KEY = "bench-district-key"
VISITS, CASES, ATTENDANCES = 5_000_000, 2_000_000, 1_000_000
DAYS = 365
# The candidate for the map (proposed to the lead as a Visit Meta index): a unit's visits of
# the last 30 days as one index range, with the household, without reading the table.
CANDIDATE_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS visit_path_visited ON grids_visit (grid_path, visited_at) "
    "INCLUDE (household_id)"
)
TARGET_RECOMPUTE_S, TARGET_DASHBOARD_MS, TARGET_MAP_MS = 60, 300, 100

# Relative frequency of each minor category of the seeded tree.
CATEGORY_WEIGHTS = {
    "SAF-01": 14, "SAF-02": 10, "SAF-03": 3, "ENV-01": 9, "ENV-02": 5, "ENV-03": 12,
    "ENV-04": 11, "HOU-01": 8, "HOU-02": 10, "NEI-01": 6, "SVC-01": 2, "OTH-01": 10,
}  # fmt: skip
# Sources of the cases that do not come from a visit.
OTHER_SOURCES = {
    "resident_report": 45,
    "staff": 18,
    "hotline_12345": 23,
    "patrol": 12,
    "emergency": 2,
}
ESCALATION_LEVELS = ["building_group", "micro_grid", "community", "street"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url", default=os.environ.get("LINLI_BENCH_RESILIENCE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--template-url", default=os.environ.get("LINLI_BENCH_DISTRICT_URL", TEMPLATE_URL)
    )
    parser.add_argument("--rebuild", action="store_true", help="copy the district again")
    parser.add_argument(
        "--activity-scale", type=float, default=1.0, help="fill a share of the activity (trials)"
    )
    parser.add_argument(
        "--district-residents",
        type=int,
        default=1_000_000,
        help="residents of a district generated here when there is none to copy (trials)",
    )
    parser.add_argument("--explain", action="store_true", help="plans of slow indicators")
    parser.add_argument("--skip-pages", action="store_true", help="recomputation only")
    parser.add_argument(
        "--try-index",
        action="store_true",
        help="measure the map and the visit indicators again with the candidate visit index",
    )
    parser.add_argument("--skip-recompute", action="store_true", help="pages only")
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


def ensure_copy(url: str, template_url: str, rebuild: bool) -> None:
    """Our own copy of the district database (never written to: other benchmarks use it)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    template = template_url.rsplit("/", 1)[1]
    if rebuild:
        database_drop(url)
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            ensure_database(url, False)  # stops unless a benchmark created it
            return
        template_exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
    if not template_exists:
        print(f"  no {template}: a new database, filled below by `linli demo "
              "--residents 1000000`")  # fmt: skip
        ensure_database(url, False)
        return
    for _attempt in range(30):
        try:
            database_create(url, template=template)
            print(f"  copied {template} to {name}")
            return
        except psycopg.errors.ObjectInUse:
            # CREATE … TEMPLATE needs the template to have no other connection.
            time.sleep(2)
    sys.exit(f"{template} stayed in use: could not copy it")


def setup_django(url: str) -> None:
    isolate_environment(url)
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["LINLI_FIELD_KEY"] = os.environ.get("LINLI_BENCH_DISTRICT_KEY", FIELD_KEY)
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


# --- the fill -------------------------------------------------------------------------------


def load_registry():
    """The district as arrays: units, households (with a vulnerable flag), residents."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, path, level, parent_id FROM grids_gridunit")
        units = {row[0]: row for row in cursor.fetchall()}
        cursor.execute(
            "SELECT g.path, min(r.user_id) FROM grids_roleassignment r "
            "JOIN grids_gridunit g ON g.id = r.grid_unit_id "
            "WHERE r.role = 'building_group_leader' GROUP BY g.path"
        )
        leaders = dict(cursor.fetchall())
        cursor.execute(
            "SELECT h.id, h.grid_path, h.building_id, "
            "coalesce(bool_or(r.vulnerability_tags <> ''), false) "
            "FROM grids_household h LEFT JOIN grids_resident r ON r.household_id = h.id "
            "GROUP BY h.id ORDER BY h.id"
        )
        households = cursor.fetchall()
        cursor.execute("SELECT id, grid_path, birth_year FROM grids_resident ORDER BY id")
        residents = cursor.fetchall()
    return units, leaders, households, residents


def path_part(path: str, depth: int) -> str:
    """`/S/B/C/M/G/`, 3 → `/S/B/C/`."""
    return "/" + "/".join(path.strip("/").split("/")[:depth]) + "/"


def factor_per(keys: list[str], rng, sigma: float, weak_share: float, weak: float) -> dict:
    """A multiplicative diligence per unit: log-normal, a few units very weak."""
    values = np.exp(rng.normal(0, sigma, len(keys)))
    values[rng.random(len(keys)) < weak_share] = weak
    return dict(zip(keys, values.tolist(), strict=True))


def fill_activity(args, now: datetime) -> None:
    from django.db import transaction

    from linli.cases.models import Case, CaseEvent

    if Case.objects.count() >= CASES * args.activity_scale:
        print(f"  activity: reused ({Case.objects.count():,} cases in the database)")
        if CaseEvent.objects.filter(action="rate").count() > 1000:
            return
        # A database filled before the ratings had their timeline events.
        with transaction.atomic():
            _fill_rate_events(args, now)
    else:
        # One transaction: a fill that fails half-way leaves nothing behind.
        with transaction.atomic():
            _fill(args, now)
            _fill_rate_events(args, now)
    import psycopg

    # What autovacuum would have done by the time of the weekly run: statistics, visibility
    # map and hint bits, so that the timed run does not write the pages it reads.
    started = time.perf_counter()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def _fill_rate_events(args, now: datetime) -> None:
    """The `rate` timeline event of every rated case (what the satisfaction indicator
    counts by date): up to three days after closing, never after now."""
    from django.db import connection
    from participation_ties import copy_into

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, closed_at, satisfaction FROM cases_case WHERE reference LIKE 'R7%%' "
            "AND satisfaction IS NOT NULL AND closed_at IS NOT NULL ORDER BY id"
        )
        rated = cursor.fetchall()
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_caseevent")
        event_base = cursor.fetchone()[0]
    rng = np.random.default_rng(args.seed + 2)
    delays = rng.uniform(0, 72 * 3600, len(rated)).tolist()
    with connection.connection.cursor() as cursor:
        with copy_into(
            cursor,
            "cases_caseevent",
            "id, case_id, action, from_state, to_state, note, data, created_at",
        ) as write:
            for number, ((case_id, closed, satisfaction), delay) in enumerate(
                zip(rated, delays, strict=True)
            ):
                write(
                    (event_base + number + 1, case_id, "rate", "closed", "closed", "",
                     f'{{"satisfaction": {satisfaction}}}',
                     min(closed + timedelta(seconds=delay), now))
                )  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_caseevent', 'id'), "
            "(SELECT max(id) FROM cases_caseevent))"
        )
    print(f"  ratings: {len(rated):,} rate events in {time.perf_counter() - started:.1f} s")


def _fill(args, now: datetime) -> None:
    from django.db import connection
    from participation_ties import copy_into

    from linli.cases.models import CaseCategory
    from linli.participation.models import ActivityKind

    visits_wanted = int(VISITS * args.activity_scale)
    cases_wanted = int(CASES * args.activity_scale)
    attendances_wanted = int(ATTENDANCES * args.activity_scale)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    units, leaders, households, residents = load_registry()
    unit_by_path = {path: (uid, level) for uid, path, level, _parent in units.values()}
    loaded = time.perf_counter()
    print(f"  registry loaded: {len(households):,} households, {len(residents):,} residents "
          f"in {loaded - started:.1f} s")  # fmt: skip
    # Midnight UTC a year ago: visits fall in day time in Shanghai (00:00–12:00 UTC).
    first = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0)
    now_s = (now - first).total_seconds()

    # Visits ---------------------------------------------------------------------------------
    h_ids = np.array([row[0] for row in households], dtype=np.int64)
    h_paths = [row[1] for row in households]
    h_building = np.array([row[2] for row in households], dtype=np.int64)
    h_vulnerable = np.array([row[3] for row in households], dtype=bool)
    micro_of = [path_part(path, 4) for path in h_paths]
    micro_keys = sorted(set(micro_of))
    diligence = factor_per(micro_keys, rng, 0.35, 0.03, 0.08)
    rate = np.where(h_vulnerable, 3.0, 1.0) * np.array([diligence[m] for m in micro_of])
    counts = rng.poisson(rate * visits_wanted / rate.sum())
    v_household = np.repeat(np.arange(len(h_ids)), counts)
    n_visits = len(v_household)
    # Day time in Shanghai (08:00–20:00 = 00:00–12:00 UTC), any day of the year.
    v_seconds = rng.integers(0, DAYS, n_visits) * 86400 + rng.integers(0, 12 * 3600, n_visits)
    order = np.argsort(v_seconds, kind="stable")
    v_household, v_seconds = v_household[order], v_seconds[order]
    v_method = rng.choice(np.array(["door", "phone", "wechat"]), n_visits, p=[0.6, 0.25, 0.15])
    v_follow = rng.random(n_visits) < 0.12
    v_mood = rng.choice(
        np.array(["", "good", "neutral", "low", "distressed"]),
        n_visits,
        p=[0.3, 0.4, 0.2, 0.08, 0.02],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM grids_visit")
        visit_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
        case_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_caseevent")
        event_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM accounts_user")
        user_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM grids_residentaccount")
        account_base = cursor.fetchone()[0]
        cursor.execute("SELECT resident_id FROM grids_residentaccount")
        has_account = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT user_id FROM grids_residentaccount")
        taken_users = {row[0] for row in cursor.fetchall()}
    group_paths = [path_part(path, 5) for path in h_paths]
    h_id_list = h_ids.tolist()
    visitor_of = [leaders.get(path) for path in group_paths]
    raw = connection.connection
    with (
        raw.cursor() as cursor,
        copy_into(
            cursor,
            "grids_visit",
            "id, household_id, grid_path, visitor_id, visited_at, method, finding, mood, "
            "needs_follow_up, created_at",
        ) as write,
    ):
        for index, (household, seconds, method, follow, mood) in enumerate(
            zip(
                v_household.tolist(), v_seconds.tolist(), v_method.tolist(),
                v_follow.tolist(), v_mood.tolist(), strict=True,
            )
        ):  # fmt: skip
            at = first + timedelta(seconds=seconds)
            write(
                (visit_base + index + 1, h_id_list[household], h_paths[household],
                 visitor_of[household], at, method,
                 "楼道堆物，需清理。" if follow else "", mood, follow, at)
            )  # fmt: skip
    visits_done = time.perf_counter()
    print(f"  visits: {n_visits:,} in {visits_done - loaded:.1f} s")

    # Cases ----------------------------------------------------------------------------------
    categories = {c.code: c for c in CaseCategory.objects.filter(code__in=CATEGORY_WEIGHTS)}
    codes = list(CATEGORY_WEIGHTS)
    weights = np.array([CATEGORY_WEIGHTS[code] for code in codes], dtype=float)
    from_visit = np.flatnonzero(v_follow)
    n_other = max(0, cases_wanted - len(from_visit))
    n_cases = len(from_visit) + n_other
    # Which household (place) and when: visit cases a few hours after their finding.
    c_household = np.concatenate([v_household[from_visit], rng.integers(0, len(h_ids), n_other)])
    delay = np.exp(rng.normal(np.log(5 * 3600), 1.0, len(from_visit)))
    c_seconds = np.minimum(
        np.concatenate([v_seconds[from_visit] + delay, rng.random(n_other) * now_s]), now_s - 60
    )
    c_visit = np.concatenate([visit_base + from_visit + 1, np.zeros(n_other, dtype=np.int64)])
    other_names = np.array(list(OTHER_SOURCES))
    other_p = np.array(list(OTHER_SOURCES.values()), dtype=float)
    c_source = np.concatenate(
        [
            np.full(len(from_visit), "visit"),
            rng.choice(other_names, n_other, p=other_p / other_p.sum()),
        ]
    )
    order = np.argsort(c_seconds, kind="stable")
    c_household, c_seconds, c_visit, c_source = (
        c_household[order], c_seconds[order], c_visit[order], c_source[order],
    )  # fmt: skip
    c_category = rng.choice(len(codes), n_cases, p=weights / weights.sum())
    sla = np.array([categories[code].sla_hours for code in codes], dtype=float)[c_category]
    community_keys = sorted({path_part(path, 3) for path in h_paths})
    # Some communities handle cases slower than others.
    pace = factor_per(community_keys, rng, 0.25, 0.05, 1.8)
    c_pace = np.array([pace[path_part(h_paths[h], 3)] for h in c_household.tolist()])
    # Handling time as a share of the time limit: ~13% late across the district.
    share = np.exp(rng.normal(np.log(0.45), 0.7, n_cases)) * c_pace
    accept_h = rng.uniform(0.2, 8, n_cases)
    resolve_h = accept_h + share * sla
    close_h = resolve_h + rng.uniform(2, 48, n_cases)
    late = share > 1
    escalations = np.where(
        late, rng.choice([0, 1, 2], n_cases, p=[0.35, 0.5, 0.15]),
        (rng.random(n_cases) < 0.02).astype(int),
    )  # fmt: skip
    extension = (rng.random(n_cases) < 0.04) & ~late
    fate = rng.random(n_cases)
    satisfaction = rng.choice([1, 2, 3, 4, 5], n_cases, p=[0.02, 0.03, 0.10, 0.35, 0.50])
    satisfaction = np.where(
        late, np.maximum(1, satisfaction - rng.integers(0, 3, n_cases)), satisfaction
    )
    rated = rng.random(n_cases) < 0.65
    priority = rng.choice(
        np.array(["normal", "low", "high", "urgent"]), n_cases, p=[0.8, 0.05, 0.12, 0.03]
    )
    parents = {uid: parent for uid, _path, _level, parent in units.values()}
    levels = {uid: level for uid, _path, level, _parent in units.values()}

    def owner(unit_id: int, steps: int) -> int:
        for _ in range(steps):
            parent = parents.get(unit_id)
            if parent is None:
                break
            unit_id = parent
            if levels[unit_id] == "block":
                unit_id = parents[unit_id]  # no post handles cases at the block
        return unit_id

    events = []
    last_closed_id = None
    state_counts: dict[str, int] = defaultdict(int)
    with raw.cursor() as cursor:
        with copy_into(
            cursor,
            "cases_case",
            "id, reference, source, hotline_reference, category_id, title, description, "
            "grid_unit_id, grid_path, building_id, reporter_id, visit_id, priority, state, "
            "owner_unit_id, handler_text, due_at, original_due_at, escalation_level, "
            "extension_count, extension_pending, reopen_count, duplicate_of_id, satisfaction, "
            "satisfaction_comment, accepted_at, resolved_at, closed_at, version, created_at, "
            "updated_at",
        ) as write:
            for index in range(n_cases):
                case_id = case_base + index + 1
                household = int(c_household[index])
                path = group_paths[household]
                group_id = unit_by_path[path][0]
                category = categories[codes[c_category[index]]]
                hours = float(sla[index])
                created_s = float(c_seconds[index])
                created = first + timedelta(seconds=created_s)
                original_due = created + timedelta(hours=hours)
                steps = int(escalations[index])
                if late[index]:
                    # Escalated when the time limit passed, each level with a fresh limit.
                    escalated_at = [
                        original_due + timedelta(hours=1 + hours * k) for k in range(steps)
                    ]
                else:
                    # Escalated early by hand (beyond the building group's means).
                    escalated_at = [
                        created + timedelta(hours=hours * 0.25 * (k + 1)) for k in range(steps)
                    ]
                accepted = created + timedelta(hours=float(accept_h[index]))
                resolved = created + timedelta(hours=float(resolve_h[index]))
                closed = created + timedelta(hours=float(close_h[index]))
                roll = fate[index]
                if roll < 0.005 and created_s < now_s - 60 * 86400:
                    state = "in_progress"  # stuck for months: overdue
                    resolved = closed = None
                elif roll < 0.035:
                    state = "rejected"
                    resolved, closed = None, accepted
                elif roll < 0.05 and last_closed_id is not None:
                    state = "duplicate"
                    resolved, closed = None, accepted
                elif closed.timestamp() <= now.timestamp():
                    state = "closed"
                elif resolved.timestamp() <= now.timestamp():
                    state = "resolved" if roll < 0.5 else "verified"
                    closed = None
                elif accepted.timestamp() <= now.timestamp():
                    state = "in_progress" if roll < 0.6 else "dispatched"
                    resolved = closed = None
                else:
                    state = "reported"
                    accepted = resolved = closed = None
                if state in ("rejected", "duplicate"):
                    steps = 0
                    if closed.timestamp() > now.timestamp():
                        state, closed, accepted = "reported", None, None
                # An escalation happens while the case is still being handled.
                until = (resolved or now).timestamp()
                escalated_at = [at for at in escalated_at[:steps] if at.timestamp() <= until]
                steps = len(escalated_at)
                due = escalated_at[-1] + timedelta(hours=hours) if steps else original_due
                if extension[index]:
                    due += timedelta(hours=hours / 2)
                owner_id = owner(group_id, steps)
                state_counts[state] += 1
                source = str(c_source[index])
                write(
                    (case_id, f"R7{case_id:010d}", source,
                     f"12345-{case_id:09d}" if source == "hotline_12345" else "",
                     category.pk, f"{category.name_zh} {case_id}", f"{category.name_zh}，位置见楼栋。",
                     group_id, path, int(h_building[household]),
                     visitor_of[household] if source == "visit" else None,
                     int(c_visit[index]) or None, str(priority[index]), state, owner_id,
                     category.usual_handler, due, original_due, ESCALATION_LEVELS[steps],
                     int(extension[index]), False, 0,
                     last_closed_id if state == "duplicate" else None,
                     int(satisfaction[index]) if state == "closed" and rated[index] else None,
                     "", accepted, resolved, closed, 1 + steps + int(extension[index]), created,
                     closed or resolved or accepted or created)
                )  # fmt: skip
                if state == "closed":
                    last_closed_id = case_id
                for step, at in enumerate(escalated_at):
                    events.append((case_id, at, ESCALATION_LEVELS[step + 1]))
        with copy_into(
            cursor,
            "cases_caseevent",
            "id, case_id, action, from_state, to_state, note, data, created_at",
        ) as write:
            for number, (case_id, at, level) in enumerate(events):
                write(
                    (event_base + number + 1, case_id, "escalate", "in_progress", "in_progress",
                     "超期未办结", f'{{"level": "{level}"}}', at)
                )  # fmt: skip
    cases_done = time.perf_counter()
    print(f"  cases: {n_cases:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(state_counts.items()))}), "
          f"{len(events):,} escalation events in {cases_done - visits_done:.1f} s")  # fmt: skip

    # Attendances ----------------------------------------------------------------------------
    r_ids = np.array([row[0] for row in residents], dtype=np.int64)
    r_community = [path_part(row[1], 3) for row in residents]
    r_birth = np.array([row[2] or 1980 for row in residents], dtype=float)
    keen = factor_per(community_keys, rng, 0.3, 0.06, 0.15)
    # Older residents take part more (the case study's volunteers are mostly retirees).
    p_take_part = (
        0.12 * np.array([keen[c] for c in r_community]) * np.where(r_birth < 1966, 1.8, 0.8)
    )
    taking_part = (rng.random(len(r_ids)) < np.clip(p_take_part, 0, 0.9)) & np.array(
        [rid not in has_account for rid in r_ids.tolist()]
    )
    chosen = np.flatnonzero(taking_part)
    propensity = rng.pareto(1.3, len(chosen)) + 1
    by_community: dict[str, list[int]] = defaultdict(list)
    for position, index in enumerate(chosen.tolist()):
        by_community[r_community[index]].append(position)
    user_id = {}
    next_user = user_base
    for position in range(len(chosen)):
        next_user += 1
        while next_user in taken_users:
            next_user += 1
        user_id[position] = next_user
    kinds = list(ActivityKind.values)
    total_weight = propensity.sum()
    occurrences, sign_ups = [], []
    for community, members in sorted(by_community.items()):
        members = np.array(members)
        weight = propensity[members]
        budget = int(attendances_wanted * weight.sum() / total_weight)
        spent = 0
        sizes = []
        while spent < budget:
            size = min(int(rng.integers(8, 46)), len(members), budget - spent)
            sizes.append(size)
            spent += size
        if not sizes:
            continue
        step = DAYS * 86400 / len(sizes)
        for number, size in enumerate(sizes):
            people = rng.choice(members, size=size, replace=False, p=weight / weight.sum())
            begins = first + timedelta(seconds=int(number * step) // 60 * 60 + 3600)
            occurrences.append((community, kinds[number % len(kinds)], begins))
            occurrence = len(occurrences)
            sign_ups.extend((occurrence, int(person)) for person in people)
    activities = sorted({(community, kind) for community, kind, _begins in occurrences})
    activity_id = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM participation_activity")
        activity_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM participation_occurrence")
        occurrence_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM participation_signup")
        signup_base = cursor.fetchone()[0]
    with raw.cursor() as cursor:
        with copy_into(
            cursor,
            "accounts_user",
            "id, password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, display_name",
        ) as write:
            for position, index in enumerate(chosen.tolist()):
                # "!": an unusable password, as `set_unusable_password` stores.
                write((user_id[position], "!", False, f"bench7-r{int(r_ids[index])}", "", "", "",
                       False, True, first, ""))  # fmt: skip
        with copy_into(
            cursor, "grids_residentaccount", "id, created_at, resident_id, user_id"
        ) as write:
            for position, index in enumerate(chosen.tolist()):
                write((account_base + position + 1, first, int(r_ids[index]), user_id[position]))
        with copy_into(
            cursor,
            "participation_activity",
            "id, kind, title, description, grid_path, capacity, starts_at, ends_at, rrule, "
            "invited_posts, created_at, updated_at, organiser_id",
        ) as write:
            for number, (community, kind) in enumerate(activities):
                activity_id[(community, kind)] = activity_base + number + 1
                write((activity_base + number + 1, kind, f"{kind} {community}", "", community, 60,
                       first, first + timedelta(hours=2), "", "", first, first,
                       unit_by_path[community][0]))  # fmt: skip
        with copy_into(
            cursor,
            "participation_occurrence",
            "id, grid_path, starts_at, ends_at, capacity, state, check_in_token, closed_at, "
            "minutes, decisions, activity_id",
        ) as write:
            for number, (community, kind, begins) in enumerate(occurrences):
                ends = begins + timedelta(hours=2)
                done = ends <= now
                write((occurrence_base + number + 1, community, begins, ends, 60,
                       "closed" if done else "scheduled", f"bench7-{occurrence_base + number + 1}",
                       ends if done else None, "", "", activity_id[(community, kind)]))  # fmt: skip
        minutes = rng.integers(-20, 60, len(sign_ups))
        cancelled = rng.random(len(sign_ups)) < 0.04
        methods = rng.random(len(sign_ups)) < 0.8
        with copy_into(
            cursor,
            "participation_signup",
            "id, grid_path, status, created_at, cancelled_at, checked_in_at, check_in_method, "
            "occurrence_id, user_id",
        ) as write:
            row = signup_base
            for number, (occurrence, person) in enumerate(sign_ups):
                community, _kind, begins = occurrences[occurrence - 1]
                row += 1
                checked = begins + timedelta(minutes=int(minutes[number]))
                write((row, community, "confirmed", begins - timedelta(days=3), None,
                       checked if checked <= now else None,
                       ("scan" if methods[number] else "organiser") if checked <= now else "",
                       occurrence_base + occurrence, user_id[person]))  # fmt: skip
                if cancelled[number]:
                    row += 1
                    write((row, community, "cancelled", begins - timedelta(days=5),
                           begins - timedelta(days=4), None, "", occurrence_base + occurrence,
                           user_id[person]))  # fmt: skip
        for table in (
            "grids_visit", "cases_case", "cases_caseevent", "accounts_user",
            "grids_residentaccount", "participation_activity", "participation_occurrence",
            "participation_signup",
        ):  # fmt: skip
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    attended = time.perf_counter()
    print(f"  attendances: {len(chosen):,} participants with a login, {len(activities):,} "
          f"activities, {len(occurrences):,} occurrences, {len(sign_ups):,} sign-ups "
          f"(+{int(cancelled.sum()):,} cancelled) in {attended - cases_done:.1f} s; fill "
          f"{attended - started:.1f} s (untimed for the target)")  # fmt: skip


# --- timing ---------------------------------------------------------------------------------


class QueryLog:
    """Counts the SQL queries run inside it and keeps the slowest."""

    def __init__(self):
        self.count = 0
        self.slowest = (0.0, "", None)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count += 1
            if elapsed > self.slowest[0]:
                self.slowest = (elapsed, sql, params)


def explain(sql: str, params) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in cursor.fetchall():
            print("      " + line)


def time_recompute(args) -> None:
    from django.db import connection
    from django.utils import timezone

    from linli.grids.models import GridLevel, GridUnit
    from linli.resilience.catalogue import indicators
    from linli.resilience.engine import context_for, week_end
    from linli.resilience.models import IndexSnapshot, IndicatorValue
    from linli.resilience.services import compute_all, snapshot_store, snapshots_take_all

    codes = [indicator.code for indicator in indicators()]
    streets = list(GridUnit.objects.filter(level=GridLevel.STREET).order_by("path"))
    units = GridUnit.objects.count()
    print(f"recompute: {len(codes)} indicators registered ({', '.join(codes)}), "
          f"{len(streets)} streets, {units:,} units")  # fmt: skip
    for run in (1, 2):
        log = QueryLog()
        started = time.perf_counter()
        with connection.execute_wrapper(log):
            written = snapshots_take_all()
        elapsed = time.perf_counter() - started
        print(f"  snapshots_take_all() run {run}: {elapsed:.2f} s, {written:,} indicator values "
              f"written, {log.count:,} queries (target {TARGET_RECOMPUTE_S} s: "
              f"{'met' if elapsed < TARGET_RECOMPUTE_S else 'MISSED'})")  # fmt: skip
    print(f"  stored: {IndicatorValue.objects.count():,} indicator values, "
          f"{IndexSnapshot.objects.count():,} index snapshots")  # fmt: skip

    # The same, split: building contexts, compute_all, snapshot_store (as snapshot_take).
    now = timezone.now()
    closing = week_end(timezone.localdate(now - timedelta(microseconds=1)))
    measured_until = min(now, closing)
    period_end = (closing - timedelta(days=1)).date()
    context_s = compute_s = store_s = 0.0
    for street in streets:
        started = time.perf_counter()
        context = context_for(street, end=measured_until)
        built = time.perf_counter()
        computed = compute_all(context)
        done = time.perf_counter()
        snapshot_store(computed, period_end)
        stored = time.perf_counter()
        context_s += built - started
        compute_s += done - built
        store_s += stored - done
    print(f"  split: context_for {context_s:.2f} s + compute_all {compute_s:.2f} s + "
          f"snapshot_store {store_s:.2f} s = {context_s + compute_s + store_s:.2f} s")  # fmt: skip
    # Proposal 1: the same delete and rows, written with COPY.
    copy_s = 0.0
    for street in streets:
        computed = compute_all(context_for(street, end=measured_until))
        started = time.perf_counter()
        snapshot_store_copy(computed, period_end)
        copy_s += time.perf_counter() - started
    print(f"  proposal 1, snapshot_store by COPY: {copy_s:.2f} s for the same rows")

    # Proposal 2: one context for every street at once (root path "/"): one grouped query
    # per source for the district instead of one per street. Same values, checked.
    started = time.perf_counter()
    district = district_context(measured_until)
    whole = compute_all(district)
    computed_s = time.perf_counter() - started
    snapshot_store_copy(whole, period_end)
    both_s = time.perf_counter() - started
    stored = {
        (code, path): measure
        for street in streets
        for code, by_path in compute_all(context_for(street, end=measured_until)).measures.items()
        for path, measure in by_path.items()
    }
    differ = sum(
        1
        for code, by_path in whole.measures.items()
        for path, measure in by_path.items()
        if stored.get((code, path)) != measure
    )
    print(f"  proposal 2, one district context: compute_all {computed_s:.2f} s, + store by COPY "
          f"= {both_s:.2f} s; {len(stored):,} values, {differ} differ from the per-street "
          f"run (target {TARGET_RECOMPUTE_S} s: {'met' if both_s < TARGET_RECOMPUTE_S else 'MISSED'})")  # fmt: skip

    # Each indicator alone (catalogue order, fresh contexts: a source shared through
    # `context.memo` is charged to the first indicator reading it), per street as shipped
    # and for the district context of proposal 2.
    per_code = {code: [0.0, 0, (0.0, "", None), 0.0] for code in codes}
    for street in streets:
        context = context_for(street, end=measured_until)
        for indicator in indicators():
            log = QueryLog()
            started = time.perf_counter()
            with connection.execute_wrapper(log):
                indicator.compute(context)
            entry = per_code[indicator.code]
            entry[0] += time.perf_counter() - started
            entry[1] += log.count
            if log.slowest[0] > entry[2][0]:
                entry[2] = log.slowest
    district = district_context(measured_until)
    for indicator in indicators():
        started = time.perf_counter()
        indicator.compute(district)
        per_code[indicator.code][3] = time.perf_counter() - started
    print(
        "  per indicator: all streets one by one (s, queries, slowest query); district context (s)"
    )
    for code, (seconds, queries, slowest, whole_s) in sorted(
        per_code.items(), key=lambda item: -item[1][0]
    ):
        print(f"    {code:<22} {seconds:6.2f} s {queries:4d} q  slowest {slowest[0] * 1000:6.1f} ms"
              f" | district {whole_s:6.2f} s  {' '.join(slowest[1].split())[:110]}")  # fmt: skip
        if args.explain and seconds > 2 and slowest[1]:
            explain(slowest[1], slowest[2])
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def district_context(end: datetime):
    """Every unit of every street in one context (proposal 2; the engine's `context_for`
    takes one root unit)."""
    from linli.grids.models import GridUnit
    from linli.resilience.engine import Context, Unit

    units = GridUnit.objects.order_by("path").values_list("id", "path", "level", "name")
    return Context(
        root_path="/",
        units=[Unit(*row) for row in units],
        start=end - timedelta(days=7),
        end=end,
    )


def snapshot_store_copy(computed, period_end) -> int:
    """`services.snapshot_store` with PostgreSQL COPY in place of `bulk_create` (the
    change proposed to the lead: building ~250,000 model instances and their INSERT
    parameters is most of the store's time)."""
    from django.db import connection, transaction

    from linli.resilience.models import IndexSnapshot, IndicatorValue

    units = {unit.path: unit for unit in computed.context.units}
    unit_ids = [unit.id for unit in units.values()]
    with transaction.atomic():
        IndicatorValue.objects.filter(grid_unit_id__in=unit_ids, period_end=period_end).delete()
        IndexSnapshot.objects.filter(grid_unit_id__in=unit_ids, period_end=period_end).delete()
        written = 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                "COPY resilience_indicatorvalue (grid_unit_id, grid_path, period_end, code, "
                "value, numerator, denominator, score) FROM STDIN"
            ) as copy:
                for code, by_path in computed.measures.items():
                    for path, measure in by_path.items():
                        copy.write_row(
                            (units[path].id, path, period_end, code, measure.value,
                             measure.numerator, measure.denominator,
                             computed.scores[path].get(code))
                        )  # fmt: skip
                        written += 1
            now = timezone_now()
            with cursor.cursor.copy(
                "COPY resilience_indexsnapshot (grid_unit_id, grid_path, level, period_end, "
                "structural, capacity, cultural, overall, computed_at) FROM STDIN"
            ) as copy:
                for path, unit in units.items():
                    index = computed.index[path]
                    copy.write_row(
                        (unit.id, path, unit.level, period_end, index["structural"],
                         index["capacity"], index["cultural"], index["overall"], now)
                    )  # fmt: skip
    return written


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed_get(client, url: str, requests: int, warmup: int = 30) -> tuple[list[float], int]:
    from django.db import connection

    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    log = QueryLog()
    with connection.execute_wrapper(log):
        response = client.get(url)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, log.count, len(response.content)


def report(label: str, samples: list[float], queries: int, size: int, target: float) -> None:
    p95 = percentile(samples, 0.95)
    print(f"  {label}: p50 {percentile(samples, 0.5):.1f} ms, p95 {p95:.1f} ms, max "
          f"{max(samples):.1f} ms, {queries} queries, {size:,} bytes (target p95 {target} ms: "
          f"{'met' if p95 < target else 'MISSED'})")  # fmt: skip


def time_pages(args) -> None:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from linli.accounts.models import User
    from linli.accounts.roles import Role
    from linli.grids.models import GridLevel, GridUnit
    from linli.grids.services import role_assign
    from linli.resilience.models import IndexSnapshot

    if not IndexSnapshot.objects.exists():
        from linli.resilience.services import snapshots_take_all

        snapshots_take_all()
    # A community of a twelve-community street, its secretary, and that street's
    # administrator (the demo's own street holds two communities only). A smaller district
    # (--district-residents) takes its last street and that street's middle community.
    streets = list(GridUnit.objects.filter(level=GridLevel.STREET).order_by("path"))
    street = streets[min(7, len(streets) - 1)]
    communities = list(
        GridUnit.objects.filter(level=GridLevel.COMMUNITY, path__startswith=street.path).order_by(
            "path"
        )
    )
    community = communities[min(3, len(communities) // 2)]
    secretary = User.objects.filter(
        role_assignments__role=Role.SECRETARY, role_assignments__grid_unit=community
    ).first()
    if secretary is None:
        secretary, _created = User.objects.get_or_create(username="bench7-secretary")
        role_assign(
            user=secretary, role=Role.SECRETARY, grid_unit=community, post="party_secretary"
        )
    admin, created = User.objects.get_or_create(username="bench7-street")
    if created:
        role_assign(user=admin, role=Role.STREET_ADMIN, grid_unit=street, post="street_admin")
    print(f"pages: community {community.name} ({community.path}), street {street.name} "
          f"({GridUnit.objects.filter(path__startswith=street.path, level='community').count()} "
          "communities)")  # fmt: skip
    try:
        dashboard = reverse("resilience:dashboard")
    except NoReverseMatch:
        dashboard = None
        print("  resilience:dashboard is not routed yet: skipped")
    clients = {}
    for label, user in (("secretary", secretary), ("street admin", admin)):
        client = Client()
        client.force_login(user)
        clients[label] = client
        if dashboard:
            samples, queries, size = timed_get(client, dashboard, args.requests)
            report(f"GET {dashboard} ({label})", samples, queries, size, TARGET_DASHBOARD_MS)
    # The map's GeoJSON (linli/resilience/api_map.py), what the map page fetches.
    url = f"/api/v1/resilience/map/{community.pk}.geojson"
    for label in ("secretary", "street admin"):
        samples, queries, size = timed_get(clients[label], url, args.requests)
        report(f"GET {url} ({label})", samples, queries, size, TARGET_MAP_MS)
    compare_map_visit_query(community)
    if args.try_index:
        try_index(args, clients, url)


def compare_map_visit_query(community) -> None:
    """The map's slowest query (households visited in 30 days per path and building) as
    linli/resilience/map.py runs it — the community's visits of the whole year by path,
    each read from the table to check its date — against the same counts through the
    households and `visit_household_recent` (proposed to the lead; no new index)."""
    from django.db.models import Count, Exists, OuterRef
    from django.utils import timezone

    from linli.grids.models import Household, Visit

    root = community.path
    now = timezone.now()
    since = now - timedelta(days=30)

    def shipped():
        return sorted(
            Visit.objects.filter(
                grid_path__startswith=root, visited_at__gte=since, visited_at__lte=now
            )
            .values("grid_path", "household__building_id")
            .annotate(n=Count("household_id", distinct=True))
            .values_list("grid_path", "household__building_id", "n")
            .order_by()
        )

    def proposed():
        recent = Visit.objects.filter(
            household=OuterRef("pk"), visited_at__gte=since, visited_at__lte=now
        )
        return sorted(
            Household.objects.filter(grid_path__startswith=root)
            .filter(Exists(recent))
            .values("grid_path", "building_id")
            .annotate(n=Count("id"))
            .values_list("grid_path", "building_id", "n")
            .order_by()
        )

    results = {}
    for label, query in (("as shipped", shipped), ("through households", proposed)):
        samples = []
        for _ in range(30):
            started = time.perf_counter()
            results[label] = query()
            samples.append((time.perf_counter() - started) * 1000)
        print(f"  map visit counts {label}: p50 {percentile(samples, 0.5):.1f} ms, p95 "
              f"{percentile(samples, 0.95):.1f} ms")  # fmt: skip
    same = results["as shipped"] == results["through households"]
    print(f"  the two give {'the same' if same else 'DIFFERENT'} rows "
          f"({len(results['as shipped'])} (path, building) counts)")  # fmt: skip


def try_index(args, clients, url: str) -> None:
    """Create the candidate index in the benchmark database, time the map and the visit
    indicators again, and drop it (the schema stays what the migrations say)."""
    from django.db import connection
    from django.utils import timezone

    from linli.resilience.engine import REGISTRY

    print(f"candidate index: {CANDIDATE_INDEX_SQL}")
    started = time.perf_counter()
    with candidate_index(connection, "visit_path_visited", CANDIDATE_INDEX_SQL) as built:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE grids_visit")
            cursor.execute("SELECT pg_size_pretty(pg_relation_size('visit_path_visited'))")
            size = cursor.fetchone()[0]
        if built:
            print(f"  built in {time.perf_counter() - started:.1f} s, {size}")
        else:
            print(f"  already in the schema ({size}): measured as it is, left in place")
        for label in ("secretary", "street admin"):
            samples, queries, size = timed_get(clients[label], url, args.requests)
            report(f"GET {url} ({label}, with the index)", samples, queries, size, TARGET_MAP_MS)
        district = district_context(timezone.now())
        for code in ("S_VISIT_30D", "S_VULNERABLE_VISIT_14D"):
            started = time.perf_counter()
            REGISTRY[code].compute(district)
            print(f"  {code} (district context, with the index): "
                  f"{time.perf_counter() - started:.2f} s")  # fmt: skip


def main() -> None:
    args = parse_args()
    ensure_copy(args.database_url, args.template_url, args.rebuild)
    setup_django(args.database_url)
    from django.utils import timezone

    from linli.grids.models import Resident

    if not Resident.objects.exists():
        # No district to copy: generate it as the issue says.
        from django.core.management import call_command

        call_command("demo", "--no-serve", "--residents", str(args.district_residents))
    fill_activity(args, timezone.now().replace(microsecond=0))
    if not args.skip_recompute:
        time_recompute(args)
    if not args.skip_pages:
        time_pages(args)


if __name__ == "__main__":
    main()
