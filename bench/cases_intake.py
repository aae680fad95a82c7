"""Benchmark: case intake, `POST /api/v1/cases` under concurrent load (gunicorn + PostgreSQL).

    .venv/bin/python bench/cases_intake.py [--seconds 60] [--clients 16] [--workers 2 --threads 4]

Drops and creates its own database (default postgres://postgres@127.0.0.1:5432/
linli_bench_intake, override with --database-url or LINLI_BENCH_INTAKE_URL; an existing
database is dropped only if a benchmark created it), migrates it and
builds a small community through the real services: 1 community, 4 micro-grids, 16 building
groups with 4 buildings each, one building-group leader per group, each with a bearer token
from `token_create`. It then starts gunicorn (gthread, DEBUG off, no access log) on that
database and drives it with one thread per client, each holding one persistent HTTP/1.1
connection (http.client) and filing cases in its own building group back to back, for
--seconds (env LINLI_BENCH_INTAKE_SECONDS, default 60) after a short warm-up.

Reported: sustained requests/s, p50/p99/max latency, responses by status, connection errors.
Then, with the server stopped, the zero-lost check: every 2xx response's id and reference is
in the database, the number of cases equals the number of 2xx (warm-up included), each has
its "create" timeline event, and nothing else failed. Last, pgbench inserts the same row
shape (every NOT NULL column of cases_case, the values of a row the API wrote) with the same
number of client connections for --pgbench-seconds (default 20), and the ratio API rate /
raw INSERT rate is reported (issue 3 aims for at least 1/4). --profile adds the SQL of one
request and a cProfile of in-process requests through Django's test Client.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

from _common import database_drop, database_recreate, isolate_environment, log_to_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_intake"
PGBENCH = "/usr/bin/pgbench"
MICRO_GRIDS = 4
GROUPS_PER_MICRO_GRID = 4
BUILDINGS_PER_GROUP = 4
WARMUP_SECONDS = 3
TARGET_RATIO = 0.25
# A resident's words as a building-group leader would type them in: one line, ~40 characters.
DESCRIPTIONS = [
    "3单元楼道里堆了旧家具和纸箱，挡住了消防通道，老人上下楼不方便，请尽快处理。",
    "有住户把电动自行车推进楼道里充电，晚上一直插着线，邻居们都担心起火。",
    "昨天傍晚从楼上掉下一个花盆，砸在单元门口，幸好没有伤到人，请查一查是哪家。",
    "小区门口的水果店把货架摆到了人行道上，推婴儿车和坐轮椅的居民只能走机动车道。",
    "楼顶在下雨后渗水，6楼住户的天花板发霉，已经好几年了，希望纳入修缮计划。",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("LINLI_BENCH_INTAKE_SECONDS", 60)),
        help="timed load duration (default 60, env LINLI_BENCH_INTAKE_SECONDS)",
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--pgbench-seconds", type=int, default=20, help="duration of the raw INSERT run"
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("LINLI_BENCH_INTAKE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--profile", action="store_true", help="also a cProfile of in-process POSTs"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


def server_environment(url: str, var_dir: str) -> dict[str, str]:
    """What both this process and gunicorn run with: the bench database, DEBUG off, keys of
    the benchmark's own and a throw-away var/ (nothing under the checkout's var/ is touched),
    and no `LINLI_*` setting of the calling shell (`isolate_environment` first)."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "linli.settings"),
        "LINLI_DEBUG": "0",
        "LINLI_SECRET_KEY": "linli-bench-intake-secret-key-" + "x" * 32,
        "LINLI_FIELD_KEY": "linli-bench-intake-field-key",
        "LINLI_VAR_DIR": var_dir,
        "LINLI_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        # Each server thread keeps its connection for the whole run (production default: 60 s),
        # so that the PostgreSQL backends measured at the start of the window are still there
        # at its end.
        "LINLI_DB_CONN_MAX_AGE": "600",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    # WhiteNoise warns that var/static is missing; the benchmark serves no static files.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    log_to_file()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# Data --------------------------------------------------------------------------------------


@dataclass
class Reporter:
    username: str
    token: str
    building_ids: list[int]


def build_community(clients: int) -> list[Reporter]:
    """Grid units, buildings and leaders through the real services; one token per leader."""
    from django.db import transaction
    from django.test import RequestFactory

    from linli.accounts.models import User
    from linli.accounts.roles import Role
    from linli.accounts.services import token_create
    from linli.grids.services import building_create, grid_unit_create, role_assign

    password = secrets.token_urlsafe(16)
    leaders = []
    with transaction.atomic():
        street = grid_unit_create(level="street", code="IS", name="基准街道", parent=None)
        block = grid_unit_create(level="block", code="IS1", name="第一街区", parent=street)
        community = grid_unit_create(level="community", code="IS1C", name="基准社区", parent=block)
        for m in range(MICRO_GRIDS):
            micro = grid_unit_create(
                level="micro_grid",
                code=f"IS1CM{m}",
                name=f"第{m + 1}微网格",
                parent=community,
            )
            for g in range(GROUPS_PER_MICRO_GRID):
                group = grid_unit_create(
                    level="building_group",
                    code=f"{micro.code}G{g}",
                    name=f"{g + 1}号楼组",
                    parent=micro,
                )
                buildings = [
                    building_create(grid_unit=group, name=f"{m + 1}-{g * 4 + b + 1}号楼")
                    for b in range(BUILDINGS_PER_GROUP)
                ]
                user = User.objects.create_user(
                    username=f"bench_leader_{group.code}", password=password
                )
                role_assign(user=user, role=Role.BUILDING_GROUP_LEADER, grid_unit=group)
                leaders.append((user.username, [building.pk for building in buildings]))
    reporters = []
    for index in range(clients):
        username, building_ids = leaders[index % len(leaders)]
        request = RequestFactory().post("/api/v1/auth/token", REMOTE_ADDR="127.0.0.1")
        _user, token = token_create(request=request, username=username, password=password)
        reporters.append(Reporter(username, token, building_ids))
    return reporters


# Server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int, log: Path):
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "linli.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        # Clients pause only between responses; keep their connections open.
        "--keep-alive",
        "30",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    # Its log (one JSON line a request) to a file: written as in production, off the screen.
    with open(log, "a", encoding="utf-8") as stream:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True, stdout=stream, stderr=stream
        )


def wait_for_server(port: int, token: str, server, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = "".join(log.read_text(encoding="utf-8").splitlines(True)[-20:])
            sys.exit(f"gunicorn exited with {server.returncode}; the end of {log}:\n{tail}")
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "GET", "/api/v1/cases/categories", headers={"Authorization": f"Bearer {token}"}
            )
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not answer within 30 s")


def stop_gunicorn(server) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# Load --------------------------------------------------------------------------------------


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # timed window only, seconds
    statuses: Counter = field(default_factory=Counter)  # every response, warm-up included
    timed_statuses: Counter = field(default_factory=Counter)
    created: list[tuple[int, str]] = field(default_factory=list)  # (id, reference) of 2xx
    connection_errors: list[str] = field(default_factory=list)
    bad_bodies: int = 0


def run_client(port, reporter, categories, start_at, timed_from, stop_at, result, index):
    headers = {
        "Authorization": f"Bearer {reporter.token}",
        "Content-Type": "application/json",
        "Accept-Language": "en",
    }
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    sent = 0
    while time.monotonic() < start_at:
        time.sleep(0.001)
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        body = json.dumps(
            {
                "category": categories[(index + sent) % len(categories)],
                "description": DESCRIPTIONS[sent % len(DESCRIPTIONS)],
                "building_id": reporter.building_ids[sent % len(reporter.building_ids)],
            }
        )
        sent += 1
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/cases", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except Exception as exc:  # noqa: BLE001 - every kind is counted and reported
            result.connection_errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        elapsed = time.perf_counter() - started
        result.statuses[response.status] += 1
        if now >= timed_from:
            result.timed_statuses[response.status] += 1
            result.latencies.append(elapsed)
        if 200 <= response.status < 300:
            try:
                data = json.loads(payload)
                result.created.append((int(data["id"]), str(data["reference"])))
            except (ValueError, KeyError, TypeError):
                result.bad_bodies += 1
    conn.close()


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (0 if it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def cpu_snapshot(server_pid: int, monitor) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn workers, the PostgreSQL backends serving the
    bench database (this monitor connection excepted) and this load-generating process."""
    backends = [
        pid
        for (pid,) in monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    ]
    own = os.times()
    return {
        "gunicorn": sum(_cpu_seconds(pid) for pid in [server_pid, *_children(server_pid)]),
        "postgres": sum(_cpu_seconds(pid) for pid in backends),
        "load generator": own.user + own.system,
    }


def drive(
    port: int,
    reporters: list[Reporter],
    categories: list[str],
    seconds: float,
    server_pid: int,
    url: str,
):
    import psycopg

    results = [ClientResult() for _ in reporters]
    start_at = time.monotonic() + 0.5
    timed_from = start_at + WARMUP_SECONDS
    stop_at = timed_from + seconds
    threads = [
        threading.Thread(
            target=run_client,
            args=(port, reporter, categories, start_at, timed_from, stop_at, result, index),
        )
        for index, (reporter, result) in enumerate(zip(reporters, results, strict=True))
    ]
    for thread in threads:
        thread.start()
    with psycopg.connect(url, autocommit=True) as monitor:
        time.sleep(max(0.0, timed_from - time.monotonic()))
        before = cpu_snapshot(server_pid, monitor)
        time.sleep(max(0.0, stop_at - time.monotonic()))
        after = cpu_snapshot(server_pid, monitor)
    for thread in threads:
        thread.join()
    return results, {name: after[name] - before[name] for name in before}


def _load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# Checks ------------------------------------------------------------------------------------


def verify(results: list[ClientResult]) -> tuple[bool, list[str]]:
    """Zero lost: what the clients were told was filed is exactly what the database holds."""
    from linli.cases.models import Case, CaseEvent

    created = [pair for result in results for pair in result.created]
    statuses = sum((result.statuses for result in results), Counter())
    ok_count = sum(count for status, count in statuses.items() if 200 <= status < 300)
    in_db = dict(Case.objects.values_list("id", "reference"))
    missing = [pair for pair in created if in_db.get(pair[0]) != pair[1]]
    events = CaseEvent.objects.filter(action="create").count()
    connection_errors = sum(len(result.connection_errors) for result in results)
    bad_bodies = sum(result.bad_bodies for result in results)
    lines = [
        f"2xx responses {ok_count:,}; cases in the database {len(in_db):,}; "
        f"'create' events {events:,}",
        f"2xx whose id+reference is missing from the database: {len(missing)}",
        f"non-2xx responses: {dict(sorted((s, c) for s, c in statuses.items() if s >= 300))}",
        f"connection errors: {connection_errors}; 2xx without a readable id: {bad_bodies}",
    ]
    for result in results:
        for error in result.connection_errors[:3]:
            lines.append(f"  {error}")
    ok = (
        not missing
        and len(in_db) == ok_count == len(created) == events
        and connection_errors == 0
        and bad_bodies == 0
        and all(status < 300 or status >= 400 for status in statuses)
    )
    return ok, lines


# Raw INSERT --------------------------------------------------------------------------------

# Every NOT NULL column of cases_case (and the nullable ones the API fills), with the values
# of a row the API wrote; the placeholder reference is a fresh uuid4 hex, as case_create's.
PGBENCH_COLUMNS = [
    "source",
    "hotline_reference",
    "category_id",
    "title",
    "description",
    "grid_unit_id",
    "grid_path",
    "building_id",
    "latitude",
    "longitude",
    "reporter_id",
    "priority",
    "state",
    "owner_unit_id",
    "handler_text",
    "escalation_level",
    "extension_count",
    "extension_pending",
    "reopen_count",
    "satisfaction_comment",
    "version",
]


def pgbench_script(url: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL("SELECT {} FROM cases_case ORDER BY id LIMIT 1").format(
                sql.SQL(", ").join(map(sql.Identifier, PGBENCH_COLUMNS))
            )
        ).fetchone()
        values = [
            conn.execute("SELECT quote_nullable(%s::text)", [value]).fetchone()[0] for value in row
        ]
    columns = ", ".join(["reference", *PGBENCH_COLUMNS, "due_at", "original_due_at"])
    columns += ", created_at, updated_at"
    return (
        f"INSERT INTO cases_case ({columns}) VALUES ("
        "replace(gen_random_uuid()::text, '-', ''), "
        + ", ".join(values)
        + ", now() + interval '72 hours', now() + interval '72 hours', now(), now());\n"
    )


def run_pgbench(url: str, clients: int, seconds: int) -> tuple[float, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(pgbench_script(url))
    try:
        completed = subprocess.run(
            [
                PGBENCH,
                "--no-vacuum",
                "--client",
                str(clients),
                "--jobs",
                "2",
                "--time",
                str(seconds),
                "--file",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", completed.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", completed.stdout)
    return float(match.group(1)), latency.group(1) if latency else "?"


# Profile -----------------------------------------------------------------------------------


def request_anatomy(reporter: Reporter, categories: list[str], profile: bool) -> None:
    """In this process, through Django's test Client (no network, no gunicorn): the SQL of
    one POST, the Python CPU time of a POST and, for scale, of the cheapest authenticated
    GET (`/api/v1/cases/categories`: token, one query); with `profile`, a cProfile."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"Authorization": f"Bearer {reporter.token}"})

    def post(index: int):
        response = client.post(
            "/api/v1/cases",
            data=json.dumps(
                {
                    "category": categories[index % len(categories)],
                    "description": DESCRIPTIONS[index % len(DESCRIPTIONS)],
                    "building_id": reporter.building_ids[index % len(reporter.building_ids)],
                }
            ),
            content_type="application/json",
        )
        assert response.status_code == 201, (response.status_code, response.content[:200])

    def get_categories(index: int):
        response = client.get("/api/v1/cases/categories")
        assert response.status_code == 200, response.status_code

    for index in range(50):
        post(index)
        get_categories(index)
    with CaptureQueriesContext(connection) as captured:
        post(0)
    print(f"\nSQL of one POST /api/v1/cases ({len(captured.captured_queries)} statements):")
    for query in captured.captured_queries:
        print(f"  {query['sql'][:110]}")
    for label, call in (
        ("POST /api/v1/cases", post),
        ("GET /api/v1/cases/categories", get_categories),
    ):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        for index in range(300):
            call(index)
        cpu = (time.process_time() - cpu_started) / 300 * 1000
        wall = (time.perf_counter() - wall_started) / 300 * 1000
        print(f"{label:<30} Python CPU {cpu:.2f} ms a request (wall {wall:.2f} ms, one thread)")
    if profile:
        # CPU time, not wall time: waits for PostgreSQL (and for a busy machine) drop out.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for index in range(500):
            post(index)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(80)


# Main --------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    if args.clients < 1 or args.seconds <= 0:
        sys.exit("--clients and --seconds must be positive")
    bench_dir = isolate_environment(args.database_url)
    server_log = bench_dir / "gunicorn.log"
    var_dir = tempfile.mkdtemp(prefix="linli-bench-intake-")
    # An empty static root: WhiteNoise only warns when it is missing (the API serves none).
    os.makedirs(os.path.join(var_dir, "static"))
    env = server_environment(args.database_url, var_dir)
    database_recreate(args.database_url)
    print(f"Database {args.database_url} (dropped and created)")
    setup_django(env)

    from django.db import connection

    from linli.cases.models import CaseCategory

    reporters = build_community(args.clients)
    categories = list(
        CaseCategory.objects.filter(parent__isnull=False, is_active=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    print(
        f"{MICRO_GRIDS * GROUPS_PER_MICRO_GRID} building groups, "
        f"{MICRO_GRIDS * GROUPS_PER_MICRO_GRID * BUILDINGS_PER_GROUP} buildings, "
        f"{len(categories)} categories, {args.clients} bearer tokens"
    )
    connection.close()

    load_before = _load_average()
    port = free_port()
    server = start_gunicorn(env, port, args.workers, args.threads, server_log)
    try:
        wait_for_server(port, reporters[0].token, server, server_log)
        print(
            f"gunicorn gthread, {args.workers} workers x {args.threads} threads on :{port}; "
            f"{args.clients} clients, {WARMUP_SECONDS} s warm-up, {args.seconds:g} s timed; "
            f"its log in {server_log}"
        )
        load_started = time.perf_counter()
        results, cpu = drive(
            port, reporters, categories, args.seconds, server.pid, args.database_url
        )
        load_elapsed = time.perf_counter() - load_started
    finally:
        stop_gunicorn(server)

    latencies = [value for result in results for value in result.latencies]
    timed = sum((result.timed_statuses for result in results), Counter())
    timed_ok = sum(count for status, count in timed.items() if 200 <= status < 300)
    rate = timed_ok / args.seconds
    print(f"\nload ran {load_elapsed:.1f} s; timed window {args.seconds:g} s")
    print(
        f"POST /api/v1/cases: {rate:,.1f} created/s sustained ({timed_ok:,} x 201 in the window), "
        f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    print(f"responses in the window by status: {dict(sorted(timed.items()))}")
    print(
        "CPU in the window: "
        + ", ".join(
            f"{name} {used:.1f} s ({used / max(timed_ok, 1) * 1000:.2f} ms a case)"
            for name, used in cpu.items()
        )
        + f"; {sum(cpu.values()) / args.seconds:.2f} of {os.cpu_count()} cores busy"
    )
    print(f"load average before / after: {load_before} / {_load_average()}")

    lost_ok, lines = verify(results)
    print("\nZero-lost check (server stopped, warm-up included):")
    for line in lines:
        print(f"  {line}")
    print(f"  => {'PASS' if lost_ok else 'FAIL'}")

    request_anatomy(reporters[0], categories, args.profile)

    connection.close()
    print(
        f"\npgbench: single-row INSERT into cases_case, {args.clients} connections, "
        f"{args.pgbench_seconds} s ..."
    )
    raw_rate, raw_latency = run_pgbench(args.database_url, args.clients, args.pgbench_seconds)
    ratio = rate / raw_rate
    print(f"raw INSERT: {raw_rate:,.0f} rows/s (latency average {raw_latency} ms)")
    print(
        f"\nAPI {rate:,.1f}/s / raw {raw_rate:,.0f}/s = {ratio:.3f} (1/{1 / ratio:.1f}); "
        f"target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    if not args.keep:
        database_drop(args.database_url)
    shutil.rmtree(var_dir, ignore_errors=True)
    if not lost_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
