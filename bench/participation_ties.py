"""Benchmark: the co-participation network of a street (100,000 residents, 1,000,000
attendance records) and the people-to-visit list of one micro-grid from stored results.

    .venv/bin/python bench/participation_ties.py [--ties-residents 100000]
        [--ties-records 1000000] [--requests 300] [--database-url postgres://...] [--rebuild]

1. Uses a PostgreSQL database of its own (`linli_bench_ties`, or `--database-url` /
   `LINLI_BENCH_TIES_URL`), created and migrated if missing, and fills it once with a street
   of 20 communities, 100 micro-grids and 400 building groups (through `grid_unit_create`)
   and 100,000 residents (PostgreSQL `COPY`; 8% carry a visit tag such as 独居老人).
2. Generates the participation, seeded, with the shape of community life: a third of the
   residents take part, some far more than others; occurrences of 5–50 attendees organised
   by a micro-grid, drawn 70% from the organiser's micro-grid, 25% from the rest of the
   community and 5% from anywhere in the street; deliberation topics with 30–90 opinions
   each. It inserts it once with `COPY` as the rows `participation_rows` reads: a login
   (User + ResidentAccount) per participant, activities and occurrences, one checked-in
   sign-up per (occurrence, person), topics with a round and their opinions; plus 5%
   cancelled sign-ups and 5% no-shows that the load must skip. The first run checks that
   the database gives back exactly the generated (event, person) pairs.
3. Times what `ties_rebuild` runs, step by step in one transaction: loading
   (`subtree_rows`, `participation_rows` from SignUp/Opinion), the build (`compute_inputs`
   + `compute`) and `ties_store` writing every snapshot and person to visit, against the
   30 s target; then `ties_rebuild` itself once, end to end.
4. Times the stored list for a micro-grid lead: the selector alone, and
   `GET /api/v1/ties/isolated?unit_id=` through Django's test Client (session auth, scope,
   serialisation), 30 warm-up then `--requests` timed, p50/p95/max.

`--ties-residents` / `--ties-records` change the size of a new database only (with
`--rebuild`): filled data is reused as it is.
"""

import argparse
import json
import os
import resource
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from _common import ensure_database, isolate_environment, log_to_file

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
    isolate_environment(url)
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["LINLI_FIELD_KEY"] = "linli-bench-ties-field-key"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    log_to_file()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@contextmanager
def copy_into(cursor, table: str, columns: str):
    """COPY rows into `table`, giving the listed columns; every other NOT NULL column gets its
    field's default, so that a column added to the model later does not break the fill."""
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    given = [name.strip() for name in columns.split(",")]
    rest = [
        field
        for field in model._meta.concrete_fields
        if field.column not in given and not field.null
    ]
    defaults = tuple(
        json.dumps(value) if isinstance(value := field.get_default(), list | dict) else value
        for field in rest
    )
    names = ", ".join(f'"{name}"' for name in [*given, *(field.column for field in rest)])
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        yield lambda row: copy.write_row((*row, *defaults))


def ensure_registry(residents: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from linli.grids.models import GridUnit, Resident
    from linli.grids.services import grid_unit_create

    if Resident.objects.count() == residents:
        return
    if GridUnit.objects.exists():
        sys.exit(
            "The benchmark database holds other data; run again with --rebuild, or give the benchmark "
            "a database of its own (--database-url)."
        )
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
        with copy_into(
            cursor, "grids_building", "id, grid_unit_id, grid_path, name, address"
        ) as write:
            for index, group in enumerate(groups):
                write((index + 1, group.pk, group.path, f"{index + 1}号楼", ""))
        with copy_into(
            cursor, "grids_household", "id, building_id, grid_path, room, created_at, updated_at"
        ) as write:
            for index, group in enumerate(groups):
                write((index + 1, index + 1, group.path, "101", now, now))
        with copy_into(
            cursor,
            "grids_resident",
            "id, household_id, grid_path, name, sex, birth_year, phone, id_number_encrypted, id_number_hash, id_number_masked, residency_type, party_membership, vulnerability_tags, created_at, updated_at",
        ) as write:
            for index in range(residents):
                group = index // per_group
                # Synthetic placeholders: the benchmark never reads ID numbers.
                write(
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
    # Unit codes (path parts): the organiser of each occurrence and the community of each
    # topic are kept, to insert them as Occurrence and Topic rows.
    community = np.array([parts[-4] for parts in paths])
    micro = np.array([parts[-3] for parts in paths])
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
    events, people, organisers, topic_communities = [], [], [], []
    total, occurrence = 0, 0
    opinion_budget = records // 30
    while total < records - opinion_budget:
        occurrence += 1
        size = int(rng.integers(5, 51))
        key = micro_keys[int(rng.integers(len(micro_keys)))]
        organisers.append(str(key))
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
        key = list(community_pools)[topic % len(community_pools)]
        topic_communities.append(str(key))
        members, p = community_pools[key]
        chosen = rng.choice(members, size=size, p=p)
        events.append(np.full(size, -topic))
        people.append(ids[chosen])
        total += size
    return np.concatenate(events), np.concatenate(people), organisers, topic_communities


def fill_participation(street, residents, args) -> tuple[np.ndarray, np.ndarray] | None:
    """Insert the generated participation as the rows `participation_rows` reads, once:
    a login (User + ResidentAccount) for every participant, an activity per micro-grid and
    kind with its occurrences (ids = the generator's occurrence numbers), one sign-up per
    (occurrence, person) checked in inside the window, and topics with a round and their
    opinions (ids = topic numbers). Plus sign-ups the load must skip: 5% cancelled (then
    signed up again) and 5% no-shows (confirmed, never checked in). Returns the generated
    (events, people) when it filled, None when the rows were already there."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from linli.grids.models import GridUnit
    from linli.participation.models import ActivityKind, SignUp

    if SignUp.objects.exists():
        print(f"  participation: reused ({SignUp.objects.count():,} sign-ups in the database)")
        return None
    started = time.perf_counter()
    events, people, organisers, topic_communities = synthetic_participation(
        residents, args.ties_records, args.seed
    )
    unit_by_code = {
        unit.code: unit
        for unit in GridUnit.objects.filter(path__startswith=street.path).only("id", "code", "path")
    }
    rng = np.random.default_rng(args.seed + 1)
    anchor = timezone.now().replace(minute=0, second=0, microsecond=0)
    first = anchor - timedelta(days=175)
    # Occurrences every few minutes over 174 days, topics over 160 days (opinions up to two
    # weeks later): all inside the 180-day window of the timed load.
    occurrence_step = 174 * 86400 / len(organisers)
    starts = [
        first + timedelta(seconds=int(index * occurrence_step)) for index in range(len(organisers))
    ]
    topic_step = 160 * 86400 / max(1, len(topic_communities))
    opened = [
        first + timedelta(seconds=int(index * topic_step))
        for index in range(len(topic_communities))
    ]
    kinds = list(ActivityKind.values)

    # One login per participant: user ids follow the existing users (the lead, if any).
    participants = np.unique(people)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM accounts_user")
        user_base = cursor.fetchone()[0]
    user_of = dict(
        zip(
            participants.tolist(),
            range(user_base + 1, user_base + 1 + len(participants)),
            strict=True,
        )
    )

    # One sign-up per (occurrence, person): several draws of the same person are one visit.
    attendance = events > 0
    span = int(people.max()) + 1
    keys = np.unique(events[attendance] * span + people[attendance])
    sign_occurrence, sign_person = keys // span, keys % span
    check_in_minutes = rng.integers(-30, 100, len(keys))
    cancelled = np.flatnonzero(rng.random(len(keys)) < 0.05)
    no_show_keys = np.setdiff1d(
        np.unique(
            rng.integers(1, len(organisers) + 1, len(keys) // 20) * span
            + rng.choice(participants, len(keys) // 20)
        ),
        keys,
    )
    opinion_rows = np.flatnonzero(~attendance)
    opinion_days = rng.random(len(opinion_rows)) * 14

    with connection.connection.cursor() as cursor:
        with copy_into(
            cursor,
            "accounts_user",
            "id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, display_name",
        ) as write:
            for resident_id, user_id in user_of.items():
                # "!": an unusable password, as `set_unusable_password` stores.
                write(
                    (user_id, "!", False, f"bench-r{resident_id}", "", "", "", False, True,
                     anchor, "")
                )  # fmt: skip
        with copy_into(
            cursor, "grids_residentaccount", "id, created_at, resident_id, user_id"
        ) as write:
            for index, (resident_id, user_id) in enumerate(user_of.items()):
                write((index + 1, anchor, resident_id, user_id))

        activity_of, activities = {}, []
        for index, code in enumerate(organisers):
            key = (code, kinds[index % len(kinds)])
            if key not in activity_of:
                activity_of[key] = len(activities) + 1
                activities.append((key, starts[index]))
        with copy_into(
            cursor,
            "participation_activity",
            "id, kind, title, description, grid_path, capacity, starts_at, ends_at, rrule, invited_posts, created_at, updated_at, organiser_id",
        ) as write:
            for index, ((code, kind), begins) in enumerate(activities):
                unit = unit_by_code[code]
                write(
                    (index + 1, kind, f"{unit.code} {kind}", "", unit.path, 80, begins,
                     begins + timedelta(hours=2), "", "", begins, begins, unit.pk)
                )  # fmt: skip
        paths = [unit_by_code[code].path for code in organisers]
        with copy_into(
            cursor,
            "participation_occurrence",
            "id, grid_path, starts_at, ends_at, capacity, state, check_in_token, closed_at, minutes, decisions, activity_id",
        ) as write:
            for index, code in enumerate(organisers):
                ends = starts[index] + timedelta(hours=2)
                activity = activity_of[(code, kinds[index % len(kinds)])]
                write(
                    (index + 1, paths[index], starts[index], ends, 80, "closed",
                     f"bench-{index + 1}", ends, "", "", activity)
                )  # fmt: skip
        with copy_into(
            cursor,
            "participation_signup",
            "id, grid_path, status, created_at, cancelled_at, checked_in_at, check_in_method, occurrence_id, user_id",
        ) as write:
            row_id = 0
            for occurrence, person, minutes in zip(
                sign_occurrence.tolist(),
                sign_person.tolist(),
                check_in_minutes.tolist(),
                strict=True,
            ):
                row_id += 1
                begins = starts[occurrence - 1]
                write(
                    (row_id, paths[occurrence - 1], "confirmed", begins - timedelta(days=3),
                     None, begins + timedelta(minutes=minutes), "scan", occurrence,
                     user_of[person])
                )  # fmt: skip
            for index in cancelled.tolist():
                row_id += 1
                occurrence, person = int(sign_occurrence[index]), int(sign_person[index])
                begins = starts[occurrence - 1]
                write(
                    (row_id, paths[occurrence - 1], "cancelled", begins - timedelta(days=5),
                     begins - timedelta(days=4), None, "", occurrence, user_of[person])
                )  # fmt: skip
            for key in no_show_keys.tolist():
                row_id += 1
                occurrence, person = key // span, key % span
                begins = starts[occurrence - 1]
                write(
                    (row_id, paths[occurrence - 1], "confirmed", begins - timedelta(days=3),
                     None, None, "", occurrence, user_of[person])
                )  # fmt: skip

        with copy_into(
            cursor,
            "participation_topic",
            "id, grid_path, title, description, state, invited_groups, case_link, outcome, created_at, updated_at, community_id",
        ) as write:
            for index, code in enumerate(topic_communities):
                unit = unit_by_code[code]
                write(
                    (index + 1, unit.path, f"议题{index + 1}", "x", "resolved", '["resident"]',
                     "", "", opened[index], opened[index], unit.pk)
                )  # fmt: skip
        with copy_into(
            cursor, "participation_round", "id, number, opened_at, closed_at, topic_id"
        ) as write:
            for index in range(len(topic_communities)):
                write((index + 1, 1, opened[index], opened[index] + timedelta(days=14), index + 1))
        with copy_into(
            cursor,
            "participation_opinion",
            "id, group, body, hidden_reason, created_at, author_id, round_id, topic_id",
        ) as write:
            for number, (row, days) in enumerate(
                zip(opinion_rows.tolist(), opinion_days.tolist(), strict=True)
            ):
                topic = -int(events[row])
                write(
                    (number + 1, "resident", "在小区门口加一个站点。", "",
                     opened[topic - 1] + timedelta(days=days), user_of[int(people[row])], topic,
                     topic)
                )  # fmt: skip
        for table in (
            "accounts_user", "grids_residentaccount", "participation_activity",
            "participation_occurrence", "participation_signup", "participation_topic",
            "participation_round", "participation_opinion",
        ):  # fmt: skip
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    connection.connection.commit()
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time of a nightly rebuild: statistics, and
        # hint bits set so that the timed scan does not write the pages it reads.
        cursor.execute("VACUUM ANALYZE")
    print(
        f"  participation: {len(participants):,} logins, {len(activities):,} activities, "
        f"{len(organisers):,} occurrences, {len(keys):,} check-ins "
        f"(+{len(cancelled):,} cancelled, +{len(no_show_keys):,} no-shows), "
        f"{len(topic_communities):,} topics, {len(opinion_rows):,} opinions "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return events, people


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

    from datetime import timedelta

    from django.db import transaction
    from django.db.models import Max
    from django.test import Client

    from linli.accounts.models import User
    from linli.accounts.roles import Role
    from linli.grids.models import GridLevel, GridUnit
    from linli.grids.services import role_assign
    from linli.participation.models import Occurrence
    from linli.participation.ties import selectors as tie_selectors
    from linli.participation.ties import services as ties

    street = GridUnit.objects.get(level=GridLevel.STREET)
    generated = fill_participation(street, ties.subtree_rows(unit=street)[1], args)

    # The rebuild's "now": a day after the last occurrence, so that every row inserted at
    # fill time (however long ago) lies inside the window.
    now = Occurrence.objects.aggregate(last=Max("ends_at"))["last"] + timedelta(days=1)
    since = now - timedelta(days=ties.WINDOW_DAYS)

    # Step by step, what `ties_rebuild` runs (in one transaction, like the service).
    with transaction.atomic():
        started = time.perf_counter()
        units, residents = ties.subtree_rows(unit=street)
        registry = time.perf_counter()
        events, people = ties.participation_rows(root_path=street.path, since=since)
        loaded = time.perf_counter()
        inputs = ties.compute_inputs(units=units, residents=residents, people=people)
        prepared = time.perf_counter()
        result = ties.compute(**inputs, events=events, people=people)
        computed = time.perf_counter()
        ties.ties_store(
            unit=street,
            units=units,
            residents=residents,
            result=result,
            now=now,
            window_days=ties.WINDOW_DAYS,
        )
    stored = time.perf_counter()  # after the commit
    if generated is not None:
        # The database gives back exactly what was generated, once per (event, person).
        span = max(int(np.max(generated[1])), max(people)) + 1
        expected = np.unique(generated[0] * span + generated[1])
        actual = np.unique(np.asarray(events, dtype=np.int64) * span + np.asarray(people))
        assert np.array_equal(expected, actual), "loaded rows differ from the generated ones"
    occurrences = len({code for code in events if code > 0})
    topics = len({code for code in events if code < 0})
    isolated = sum(len(m.isolated) for uid, m in result.units.items() if uid in {
        u for u, _p, level in units if level == GridLevel.MICRO_GRID})  # fmt: skip
    load, build, store = loaded - started, computed - loaded, stored - computed
    print(
        f"load: registry {registry - started:.2f} s ({len(residents):,} residents), "
        f"participation_rows {loaded - registry:.2f} s ({len(events):,} rows: "
        f"{occurrences:,} occurrences, {topics:,} topics)"
    )
    print(
        f"build: inputs {prepared - loaded:.2f} s, compute {computed - prepared:.2f} s "
        f"({result.pairs:,} pairs expanded, {len(result.tied):,} residents with ties)"
    )
    print(f"store: {store:.2f} s ({len(result.units)} snapshots, {isolated:,} to visit)")
    total = stored - started
    print(
        f"total: load {load:.2f} s + build {build:.2f} s + store {store:.2f} s = {total:.2f} s "
        f"(target 30 s: {'met' if total < 30 else 'MISSED'})"
    )
    # The service itself, end to end, on the same data.
    started = time.perf_counter()
    ties.ties_rebuild(unit=street, now=now)
    print(f"ties_rebuild(street): {time.perf_counter() - started:.2f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    micro = GridUnit.objects.filter(level=GridLevel.MICRO_GRID).order_by("path")[50]
    lead, created = User.objects.get_or_create(username="bench-ties-lead")
    if created:
        role_assign(user=lead, role=Role.MICRO_GRID_LEAD, grid_unit=micro, post="branch_secretary")
    lead = User.objects.get(pk=lead.pk)

    def selector_call():
        lead.__dict__.pop("_linli_scope", None)
        return list(tie_selectors.isolated_visible(user=lead, path=micro.path))

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
