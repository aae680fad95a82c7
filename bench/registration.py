"""Benchmark: 6,000 households invited by SMS, then 2,000 residents registering with their
invitation (issue 15).

    .venv/bin/python bench/registration.py [--households 6000] [--registrations 2000]
        [--processes 2] [--database-url postgres://…/linli_bench_registration | sqlite:///…]

Uses a database of its own, made afresh at every run and dropped at the end (`--keep` keeps
it): PostgreSQL by default (`linli_bench_registration`, `--database-url` or
`LINLI_BENCH_REGISTRATION_URL`), or a SQLite file that the benchmark creates itself (a file
it did not create — no `<file>.linli-bench` mark beside it — is left alone, as
bench/_common.py leaves a PostgreSQL database). It runs as an installation of its own
(`isolate_environment`): no SMS gateway, an in-memory broker that nothing consumes, so the
invitations and codes stay in the outbox as they would while a gateway is slow.

1. **The community**: one community, 6 micro-grids, 30 building groups, 120 buildings; the
   grid through the real services, then `--households` households with one resident each
   (a distinct mobile number, ID numbers encrypted and hashed as `resident_create` does,
   4 in 10 born before 1960, 1 in 10 tagged "elderly living alone") by `bulk_create`, and a
   secretary on the community.
2. **Invitations**: `invitations_create` for the whole community by SMS, as the secretary's
   form calls it, timed to the commit (the batch, one invitation row per household, one
   notification and one SMS outbox row per household, the delivery handed to the broker
   after commit). Checked: exactly one pending SMS outbox row per household, to that
   household's phone, carrying its own link — none lost, none doubled. Anchor, in the same
   run: the same number of invitation, notification and outbox rows written by
   `bulk_create` alone in one transaction (rolled back): the floor of writing those rows.
3. **Registrations**: `--registrations` residents, each a new browser (Django's test client
   through the full middleware stack, no network) with an address of its own in
   127.0.0.0/8 (the per-address throttles are for one network, not for a whole estate):
   open the invitation link (302 to the building's form), load the form, ask for the code
   (POST), read the code from the SMS in the outbox (not timed: the resident reading their
   phone), register (POST; matched by name, room and the registered phone: 302 home,
   signed in). Split over `--processes` processes (2: the two cores). Reported: requests/s
   and registrations/s over the wall time, p50/p95/p99 latency per request kind. Checked:
   every registration linked its resident and used its invitation. Anchor, in the same run
   and harness: `GET /healthz`, the cheapest request of the stack.

Uses linli.registration's form (/join/b/…) when that app is installed; without it, only
steps 1–2 run and the script says so.
"""

import argparse
import functools
import os
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

from _common import ensure_database, isolate_environment, log_to_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Each step's lines as soon as they are known (a run takes minutes; stdout may be a file).
print = functools.partial(print, flush=True)  # noqa: A001

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_registration"
MICRO_GRIDS = 6
GROUPS_PER_MICRO_GRID = 5
BUILDINGS_PER_GROUP = 4
SQLITE_MARK = ".linli-bench"
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=6000)
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="registering processes (default 2; 1 on SQLite, which has one writer)",
    )
    parser.add_argument("--anchor-requests", type=int, default=500)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LINLI_BENCH_REGISTRATION_URL", DEFAULT_URL),
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # bench/run.py passes every script the same options; ignore the ones meant for others.
    return parser.parse_known_args()[0]


# The benchmark's own database ----------------------------------------------------------------


def sqlite_path(url: str) -> Path | None:
    """The SQLite file as Django reads the URL (sqlite:////abs/path, sqlite:///relative)."""
    if not url.startswith("sqlite:"):
        return None
    import dj_database_url

    return Path(dj_database_url.parse(url)["NAME"]).resolve()


def database_fresh(url: str) -> None:
    """Drop and create the benchmark's database; stop at one it did not create."""
    path = sqlite_path(url)
    if path is None:
        ensure_database(url, rebuild=True)
        return
    mark = path.with_name(path.name + SQLITE_MARK)
    if path.exists() and not mark.exists():
        raise SystemExit(
            f"The database {path} was not created by a benchmark: it is left alone. "
            "Give the benchmark a file of its own (--database-url sqlite:///…)."
        )
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text("Created by bench/registration.py: dropped and rebuilt by it.\n")


def database_remove(url: str) -> None:
    from _common import database_drop

    path = sqlite_path(url)
    if path is None:
        from django.db import connections

        connections.close_all()
        database_drop(url)
        return
    if path.with_name(path.name + SQLITE_MARK).exists():
        for leftover in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        path.with_name(path.name + SQLITE_MARK).unlink(missing_ok=True)


def setup_django(url: str) -> None:
    isolate_environment(url)
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["LINLI_FIELD_KEY"] = "linli-bench-registration-field-key"
    os.environ["LINLI_DEBUG"] = "0"
    os.environ["LINLI_SECRET_KEY"] = "linli-bench-registration-secret-key-" + "x" * 30
    os.environ["LINLI_SITE_URL"] = "http://testserver"
    # Deliveries are handed to the in-memory broker, which nothing consumes: the outbox rows
    # stay pending, as behind a worker that is busy (inline tasks would try each SMS in the
    # request that queued it, which production never does).
    os.environ["LINLI_CELERY_EAGER"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    log_to_file()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()


# 1. The community ----------------------------------------------------------------------------


def id_number_for(index: int) -> tuple[str, int]:
    """A distinct, checksum-correct ID number per index (< 1,000,000) and its birth year."""
    from datetime import date, timedelta

    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    born = date(1935, 1, 1) + timedelta(days=(index * 7) % 25000)
    body = f"310115{born:%Y%m%d}{index % 1000:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11], born.year


def phone_for(index: int) -> str:
    return f"139{index:08d}"


def name_for(index: int) -> str:
    return f"居民{index:05d}"


def build_community(households: int):
    from django.db import transaction
    from django.utils import timezone

    from linli.accounts.models import User
    from linli.accounts.privacy import encrypt_text, id_number_hash, mask_id_number
    from linli.accounts.roles import Role
    from linli.grids.models import Building, Household, Resident
    from linli.grids.services import grid_unit_create, role_assign

    started = time.perf_counter()
    with transaction.atomic():
        street = grid_unit_create(level="street", code="RS", name="基准街道", parent=None)
        block = grid_unit_create(level="block", code="RSB", name="基准街区", parent=street)
        community = grid_unit_create(level="community", code="RSBC", name="基准社区", parent=block)
        groups = []
        for m in range(MICRO_GRIDS):
            micro = grid_unit_create(
                level="micro_grid", code=f"RSBCM{m}", name=f"第{m + 1}微网格", parent=community
            )
            for g in range(GROUPS_PER_MICRO_GRID):
                groups.append(
                    grid_unit_create(
                        level="building_group",
                        code=f"{micro.code}G{g}",
                        name=f"{m + 1}-{g + 1}楼组",
                        parent=micro,
                    )
                )
        buildings = Building.objects.bulk_create(
            [
                Building(grid_unit=group, grid_path=group.path, name=f"{index + 1}号楼")
                for index, group in enumerate(
                    group for group in groups for _ in range(BUILDINGS_PER_GROUP)
                )
            ]
        )
        per_building = -(-households // len(buildings))
        rows = []
        for index in range(households):
            building = buildings[index // per_building]
            floor, door = divmod(index % per_building, 4)
            rows.append(
                Household(
                    building=building, grid_path=building.grid_path, room=f"{floor + 1}0{door + 1}"
                )
            )
        household_rows = Household.objects.bulk_create(rows, batch_size=2000)
        now = timezone.now()
        residents = []
        for index, household in enumerate(household_rows):
            id_number, birth_year = id_number_for(index)
            elderly = index % 10 < 4
            residents.append(
                Resident(
                    household=household,
                    grid_path=household.grid_path,
                    name=name_for(index),
                    sex="male" if index % 2 else "female",
                    birth_year=min(birth_year, 1959) if elderly else max(birth_year, 1960),
                    phone=phone_for(index),
                    id_number_encrypted=encrypt_text(id_number),
                    id_number_hash=id_number_hash(id_number),
                    id_number_masked=mask_id_number(id_number),
                    vulnerability_tags=",elderly_alone," if index % 10 == 0 else "",
                    created_at=now,
                    updated_at=now,
                )
            )
        Resident.objects.bulk_create(residents, batch_size=2000)
        secretary = User.objects.create_user(
            username="bench-registration-secretary", password=None, display_name="基准书记"
        )
        role_assign(
            user=secretary, role=Role.SECRETARY, grid_unit=community, post="party_secretary"
        )
    print(
        f"1. community: {len(buildings)} buildings, {households:,} households and residents "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return community, secretary


# 2. Invitations ------------------------------------------------------------------------------


def invite_all(community, secretary, households: int) -> tuple[dict[str, str], float, float]:
    """Invite every household by SMS; returns ({phone: token}, seconds, anchor seconds).
    Fails on a lost or doubled SMS."""
    from django.db import connection

    from linli.invitations.selectors import household_selection
    from linli.invitations.services import invitations_create
    from linli.notify.models import Notification, OutboxMessage

    selection = household_selection(user=secretary, kind="grid_unit", grid_unit_id=community.pk)
    started = time.perf_counter()
    result = invitations_create(
        actor=secretary,
        households=selection,
        resident_filter="",
        days=30,
        channel="sms",
        skip_registered=True,
    )
    seconds = time.perf_counter() - started
    tokens = {issued.invitation.phone: issued.token for issued in result.issued}

    sms = OutboxMessage.objects.filter(channel="sms", notification__kind="invitation")
    rows = list(sms.values_list("notification__address", "notification__title", "status"))
    addresses = [address for address, _title, _status in rows]
    problems = []
    if len(rows) != households:
        problems.append(f"{len(rows)} SMS outbox rows for {households} households")
    if len(set(addresses)) != len(addresses):
        problems.append("a phone got two invitations")
    if set(addresses) != {phone_for(index) for index in range(households)}:
        problems.append("the SMS went to other phones than the households'")
    if any(status != "pending" for _a, _t, status in rows):
        problems.append("an SMS row is not pending")
    if any(f"/invitations/i/{tokens.get(address)}/" not in title for address, title, _s in rows):
        problems.append("an SMS does not carry its household's link")
    if Notification.objects.filter(kind="invitation").count() != households:
        problems.append("notifications and outbox rows differ")
    print(
        f"2. invitations: {len(result.issued):,} invitations and SMS outbox rows in {seconds:.2f} s "
        f"({len(result.issued) / seconds:,.0f}/s), {len(result.no_phone)} without a phone; "
        f"{len(rows):,} SMS rows pending, to {len(set(addresses)):,} distinct phones"
    )
    anchor = anchor_rows(result.batch, households)
    print(
        f"   anchor: the same {households:,} × 3 rows by bulk_create alone: {anchor:.2f} s "
        f"(invitations_create is {seconds / anchor:.1f}× that)  [{connection.vendor}]"
    )
    if problems:
        raise SystemExit("Invitations: " + "; ".join(problems))
    return tokens, seconds, anchor


def warm_up() -> None:
    """Load the URLs, views and templates once (a server's first request does), so that
    neither the timed batch nor the forked registering processes pay for the imports."""
    from django.test import Client

    Client().get("/invitations/i/" + "x" * 32 + "/")


class _Rollback(Exception):
    pass


def anchor_rows(batch, households: int) -> float:
    """Seconds to write `households` invitation, notification and SMS outbox rows with
    bulk_create in one transaction (rolled back afterwards)."""
    import secrets

    from django.db import transaction

    from linli.invitations.models import Invitation, token_hash
    from linli.notify.models import Notification, OutboxMessage

    template = (
        Invitation.objects.filter(batch=batch)
        .order_by("id")
        .values("household_id", "grid_path", "expires_at", "phone")
    )
    rows = list(template[:households])
    started = time.perf_counter()
    try:
        with transaction.atomic():
            Invitation.objects.bulk_create(
                [
                    Invitation(
                        batch=batch,
                        household_id=row["household_id"],
                        grid_path=row["grid_path"],
                        token_hash=token_hash(secrets.token_urlsafe(24)),
                        channel="sms",
                        phone=row["phone"],
                        expires_at=row["expires_at"],
                    )
                    for row in rows
                ],
                batch_size=1000,
            )
            notifications = Notification.objects.bulk_create(
                [
                    Notification(address=row["phone"], kind="bench_anchor", title="x" * 90)
                    for row in rows
                ],
                batch_size=1000,
            )
            OutboxMessage.objects.bulk_create(
                [OutboxMessage(notification=n, channel="sms") for n in notifications],
                batch_size=1000,
            )
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds


# 3. Registrations ----------------------------------------------------------------------------


def registration_available() -> bool:
    try:
        import linli.registration.services  # noqa: F401
        import linli.registration.tokens  # noqa: F401
    except ImportError:
        return False
    from django.conf import settings

    return "linli.registration" in settings.INSTALLED_APPS


def address_for(index: int) -> str:
    return f"127.{1 + index // 62500}.{(index // 250) % 250}.{1 + index % 250}"


def register_one(index: int, phone: str, token: str, timings: dict[str, list[float]]) -> str:
    """One resident, in a browser of their own; returns what went wrong, or ""."""
    from django.test import Client

    from linli.notify.models import Notification

    client = Client(REMOTE_ADDR=address_for(index), HTTP_ACCEPT_LANGUAGE="zh-hans")

    def timed(kind: str, method: str, *args):
        begin = time.perf_counter()
        response = getattr(client, method)(*args)
        timings[kind].append(time.perf_counter() - begin)
        return response

    opened = timed("open", "get", f"/invitations/i/{token}/")
    if opened.status_code != 302:
        return f"{phone}: invitation link answered {opened.status_code}"
    form_url = opened["Location"]
    form = timed("form", "get", form_url)
    if form.status_code != 200:
        return f"{phone}: form answered {form.status_code}"
    fields = {"phone": phone, "invitation": token, "action": "code"}
    coded = timed("code", "post", form_url, fields)
    if coded.status_code != 200:
        return f"{phone}: code request answered {coded.status_code}"
    sms = Notification.objects.filter(address=phone, kind="phone_code").order_by("-id").first()
    match = CODE.search(sms.title) if sms else None
    if match is None:
        return f"{phone}: no code SMS"
    fields = {
        "phone": phone,
        "code": match.group(1),
        "name": name_for(index),
        "room": "",
        "id_last4": "",
        "invitation": token,
        "action": "register",
    }
    registered = timed("register", "post", form_url, fields)
    if registered.status_code != 302 or registered["Location"] != "/":
        return (
            f"{phone}: registering answered {registered.status_code} {registered.get('Location')}"
        )
    return ""


def register_slice(work: list[tuple[int, str, str]], queue) -> None:
    """In a process of its own: register each (index, phone, token); put back the timings."""
    from django.db import connections

    connections.close_all()  # never share the parent's connection
    timings: dict[str, list[float]] = {"open": [], "form": [], "code": [], "register": []}
    failures = []
    started = time.perf_counter()
    for index, phone, token in work:
        failure = register_one(index, phone, token, timings)
        if failure:
            failures.append(failure)
    queue.put((timings, failures, time.perf_counter() - started))
    connections.close_all()


def anchor_slice(count: int, queue) -> None:
    from django.db import connections

    connections.close_all()
    from django.test import Client

    client = Client(REMOTE_ADDR="127.0.0.1")
    timings = []
    started = time.perf_counter()
    for _ in range(count):
        begin = time.perf_counter()
        response = client.get("/healthz")
        timings.append(time.perf_counter() - begin)
        assert response.status_code == 200, response.status_code
    queue.put(({"healthz": timings}, [], time.perf_counter() - started))
    connections.close_all()


def run_processes(target, slices: list) -> tuple[dict[str, list[float]], list[str], float]:
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    started = time.perf_counter()
    workers = [context.Process(target=target, args=(part, queue)) for part in slices]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    timings: dict[str, list[float]] = {}
    failures: list[str] = []
    for part_timings, part_failures, _seconds in results:
        for kind, values in part_timings.items():
            timings.setdefault(kind, []).extend(values)
        failures.extend(part_failures)
    if any(worker.exitcode for worker in workers):
        failures.append("a registering process died")
    return timings, failures, wall


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def describe(kind: str, values: list[float]) -> str:
    return (
        f"{kind:<9} n={len(values):>5}  p50 {statistics.median(values) * 1000:7.1f} ms  "
        f"p95 {percentile(values, 0.95) * 1000:7.1f} ms  p99 {percentile(values, 0.99) * 1000:7.1f} ms"
    )


def register_many(tokens: dict[str, str], count: int, processes: int, anchor_count: int) -> None:
    from linli.grids.models import ResidentAccount
    from linli.invitations.models import Invitation

    phones = sorted(tokens)[:count]
    work = [(int(phone[3:]), phone, tokens[phone]) for phone in phones]
    slices = [work[part::processes] for part in range(processes)]
    timings, failures, wall = run_processes(register_slice, slices)
    requests = sum(len(values) for values in timings.values())
    everything = [value for values in timings.values() for value in values]
    print(
        f"3. registrations: {len(work):,} residents over {processes} processes in {wall:.1f} s: "
        f"{requests / wall:.1f} requests/s, {len(work) / wall:.1f} registrations/s"
    )
    for kind in ("open", "form", "code", "register"):
        print("   " + describe(kind, timings[kind]))
    print("   " + describe("all", everything))
    anchor, _failures, anchor_wall = run_processes(
        anchor_slice, [anchor_count // processes] * processes
    )
    print(
        f"   anchor: GET /healthz, same harness and processes: "
        f"{len(anchor['healthz']) / anchor_wall:.1f} requests/s; "
        + describe("healthz", anchor["healthz"])
    )
    linked = ResidentAccount.objects.filter(resident__phone__in=phones).count()
    used = Invitation.objects.filter(phone__in=phones, used_at__isnull=False).count()
    print(f"   checked: {linked:,} residents linked, {used:,} invitations used")
    if failures or linked != len(work) or used != len(work):
        for failure in failures[:10]:
            print("   failure:", failure)
        raise SystemExit(
            f"Registrations: {len(failures)} failed, {linked} linked and {used} invitations used "
            f"of {len(work)}"
        )


def main() -> int:
    args = parse_args()
    started_load = os.getloadavg()[0]
    if args.registrations > args.households:
        raise SystemExit("--registrations cannot exceed --households")
    database_fresh(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    print(f"bench/registration.py on {connection.vendor} ({connection.settings_dict['NAME']})")
    try:
        community, secretary = build_community(args.households)
        tokens, _seconds, _anchor = invite_all(community, secretary, args.households)
        if not registration_available():
            print(
                "3. registrations: linli.registration is not installed: the invitation side only."
            )
        elif args.registrations:
            default = 1 if connection.vendor == "sqlite" else 2
            processes = max(1, args.processes or default)
            register_many(tokens, args.registrations, processes, args.anchor_requests)
    finally:
        if not args.keep:
            database_remove(args.database_url)
    print(
        f"load average (1 min): {started_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
