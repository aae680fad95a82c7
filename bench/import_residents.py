"""Benchmark: import 1,000,000 residents from CSV into PostgreSQL (issue 2).

Target: at least 50,000 rows/s end to end (parsing, validation, ID-number hashing and AES-GCM
encryption, writing buildings, households and residents) with peak memory under 1.5 GB,
reported against a raw PostgreSQL COPY of the same rows into a plain table in the same run.

    .venv/bin/python bench/import_residents.py [--rows N] [--no-reimport] [--keep]

It creates (and drops) its own database, `linli_bench` on the PostgreSQL server of
LINLI_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432), or the one named by
--database-url / LINLI_BENCH_IMPORT_URL (dropped only if a benchmark created it), migrates it,
builds a
grid tree in the case study's proportions (communities of 7 micro-grids and ~118
buildings, one building group per building), writes a deterministic CSV, then runs the
import in a child process so that its peak RSS is its own.
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import database_drop, database_recreate, isolate_environment, log_to_file

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("LINLI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DEFAULT_URL = f"{SERVER}/linli_bench"
# A fixed key: the bench never touches var/ and its ciphertexts are reproducible in size.
FIELD_KEY = "bench-field-key-not-a-secret"

RESIDENTS_PER_COMMUNITY = 6_350
MICRO_GRIDS_PER_COMMUNITY = 7
BUILDINGS_PER_COMMUNITY = 118
HOUSEHOLDS_PER_COMMUNITY = 2_716

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建国志文斌丹萍鹏辉玲燕云飞鑫波宁浩宇欣怡子涵梓轩雨桐思远晓东海燕春梅建华淑珍凤英"
REGIONS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112")
REGIONS_MIGRANT = ("320102", "340104", "410105", "420106", "510107", "360102", "430103")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
HEADER = [
    "楼组网格编码",
    "楼栋",
    "室号",
    "姓名",
    "性别",
    "出生年份",
    "手机号",
    "身份证号",
    "户籍类型",
    "党员类型",
    "困难标签",
]


def id_number(body: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def community_count(rows: int) -> int:
    return max(1, -(-rows // RESIDENTS_PER_COMMUNITY))


def generate_csv(path: Path, rows: int, seed: int = 2026) -> None:
    """Deterministic rows in the case study's proportions: ~40% aged 60+, ~25% migrants,
    party members of each kind, ~12% with a vulnerability tag, 2.3 residents a household."""
    rnd = random.Random(seed)
    communities = community_count(rows)
    per_community = -(-rows // communities)
    used_ids: set[str] = set()
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for community in range(communities):
            n = min(per_community, rows - written)
            if n <= 0:
                break
            households = max(1, round(n * HOUSEHOLDS_PER_COMMUNITY / RESIDENTS_PER_COMMUNITY))
            buildings = max(1, round(n * BUILDINGS_PER_COMMUNITY / RESIDENTS_PER_COMMUNITY))
            for index in range(n):
                household = index * households // n
                building = household * buildings // households
                micro = building * MICRO_GRIDS_PER_COMMUNITY // buildings + 1
                group_code = f"C{community:03d}-{micro}-{building + 1:03d}"
                in_building = household - (building * households + buildings - 1) // buildings
                floor, door = divmod(max(in_building, 0), 4)
                room = f"{floor + 1}{door + 1:02d}"
                age_roll = rnd.random()
                if age_roll < 0.40:
                    birth_year = rnd.randint(1930, 1965)
                elif age_roll < 0.85:
                    birth_year = rnd.randint(1966, 2005)
                else:
                    birth_year = rnd.randint(2006, 2024)
                female = rnd.random() < 0.52
                residency_roll = rnd.random()
                if residency_roll < 0.60:
                    residency, regions = "户籍", REGIONS
                elif residency_roll < 0.75:
                    residency, regions = "常住", REGIONS
                else:
                    residency, regions = "外来", REGIONS_MIGRANT
                while True:
                    sequence = rnd.randint(0, 499) * 2 + (0 if female else 1)
                    body = (
                        f"{rnd.choice(regions)}{birth_year}{rnd.randint(1, 12):02d}"
                        f"{rnd.randint(1, 28):02d}{sequence:03d}"
                    )
                    number = id_number(body)
                    if number not in used_ids:
                        used_ids.add(number)
                        break
                party_roll = rnd.random()
                party = ""
                if birth_year < 2006:
                    if party_roll < 0.04:
                        party = "在职"
                    elif party_roll < 0.08 and birth_year < 1966:
                        party = "退休"
                    elif party_roll < 0.09:
                        party = "流动"
                tags = ""
                tag_roll = rnd.random()
                if birth_year < 1966 and tag_roll < 0.12:
                    tags = "独居老人" if tag_roll < 0.05 else "空巢"
                    if tag_roll < 0.02:
                        tags += "、低保"
                elif tag_roll < 0.02:
                    tags = "残疾"
                elif tag_roll < 0.03:
                    tags = "重病"
                elif female and 1990 <= birth_year <= 2000 and tag_roll < 0.05:
                    tags = "孕产妇"
                phone = f"1{rnd.choice('3589')}{rnd.randint(0, 999999999):09d}"
                if birth_year > 2010 or rnd.random() < 0.15:
                    phone = ""
                writer.writerow(
                    [
                        group_code,
                        f"{building + 1}号楼",
                        room,
                        rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.randint(1, 2))),
                        "女" if female else "男",
                        birth_year,
                        phone,
                        number,
                        residency,
                        party,
                        tags,
                    ]
                )
            written += n


def database_url() -> str:
    # The child import process reads it from the environment its parent set.
    return os.environ.get("LINLI_BENCH_IMPORT_URL", DEFAULT_URL)


def setup_django() -> None:
    isolate_environment(database_url())
    os.environ["LINLI_FIELD_KEY"] = FIELD_KEY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    log_to_file()


def build_grid(rows: int) -> int:
    """One street, one block per 10 communities, 7 micro-grids a community, one building
    group per building. Returns the number of building groups."""
    from linli.grids.models import GridUnit

    def unit(level, code, name, parent):
        return GridUnit(
            level=level, code=code, name=name, parent=parent, path=GridUnit.path_for(parent, code)
        )

    street = unit("street", "BS", "基准街道", None)
    street.save()
    communities = community_count(rows)
    per_community = -(-rows // communities)
    blocks = {}
    groups = []
    for community in range(communities):
        block_index = community // 10
        if block_index not in blocks:
            blocks[block_index] = unit("block", f"BK{block_index}", f"第{block_index}街区", street)
            blocks[block_index].save()
        comm = unit("community", f"C{community:03d}", f"{community}社区", blocks[block_index])
        comm.save()
        n = min(per_community, rows - community * per_community)
        buildings = max(1, round(n * BUILDINGS_PER_COMMUNITY / RESIDENTS_PER_COMMUNITY))
        micros = {}
        for building in range(buildings):
            micro = building * MICRO_GRIDS_PER_COMMUNITY // buildings + 1
            if micro not in micros:
                micros[micro] = unit("micro_grid", f"C{community:03d}-{micro}", f"{micro}", comm)
                micros[micro].save()
            code = f"C{community:03d}-{micro}-{building + 1:03d}"
            groups.append(unit("building_group", code, f"{building + 1}号楼组", micros[micro]))
    GridUnit.objects.bulk_create(groups, batch_size=2000)
    return len(groups)


def raw_copy_seconds(path: Path) -> float:
    """PostgreSQL's own COPY of the same CSV into a plain table of the same columns."""
    import psycopg

    with psycopg.connect(database_url()) as conn:
        conn.execute(
            "CREATE TABLE bench_raw_copy ("
            + ", ".join(f"c{index} text" for index in range(len(HEADER)))
            + ")"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_raw_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            open(path, "rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_copy")
        conn.commit()
    return seconds


def _process_cpu(pid: int) -> float:
    """CPU seconds used so far by a local process (the PostgreSQL backend); 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(path: str) -> None:
    """Run one import in this process and print what it measured as JSON."""
    setup_django()
    from django.db import connection

    from linli.grids.importing import registry_import
    from linli.grids.importing.writers import short_switch_interval

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server_before = _process_cpu(backend)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    # This process is the import's own, as `linli import`'s is.
    with short_switch_interval():
        report = registry_import(actor=None, source=path, filename=Path(path).name)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    python_cpu = usage.ru_utime + usage.ru_stime - cpu_before
    server_cpu = _process_cpu(backend) - server_before
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": report.rows,
                "errors": [error.as_text() for error in report.errors[:20]],
                "counts": report.counts(),
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "python_cpu": python_cpu,
                "server_cpu": server_cpu,
            }
        )
    )


def run_child(path: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    measured["wall_seconds"] = wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    measured["children_max_rss_mb"] = max(before, children) / 1024
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-reimport", action="store_true", help="skip the second import")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--database-url", default=database_url())
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)  # run.py passes every script's options
    if args.child:
        child(args.child)
        return 0

    os.environ["LINLI_BENCH_IMPORT_URL"] = args.database_url
    rows = args.rows
    print(f"import_residents: {rows:,} rows into PostgreSQL ({args.database_url})", flush=True)
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as directory:
        path = Path(directory) / "residents.csv"
        started = time.perf_counter()
        generate_csv(path, rows)
        print(
            f"  generated {path.stat().st_size / 2**20:.0f} MiB CSV "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        database_recreate(args.database_url)
        try:
            setup_django()
            from django.core.management import call_command
            from django.db import connection

            call_command("migrate", verbosity=0)
            groups = build_grid(rows)
            connection.close()
            print(f"  grid: {groups:,} building groups", flush=True)

            first = run_child(path)
            if first["errors"]:
                print("  import reported errors:", *first["errors"], sep="\n    ")
                return 1
            from linli.grids.models import Household, Resident

            residents = Resident.objects.count()
            households = Household.objects.count()
            connection.close()
            assert residents == rows, (residents, rows)
            rate = rows / first["seconds"]
            print(
                f"  import:   {first['seconds']:7.2f} s  {rate:10,.0f} rows/s  "
                f"peak RSS {first['max_rss_mb']:,.0f} MiB  "
                f"({households:,} households, {residents:,} residents)\n"
                f"            CPU: Python {first['python_cpu']:.1f} s, "
                f"PostgreSQL backend {first['server_cpu']:.1f} s",
                flush=True,
            )
            second = None
            if not args.no_reimport:
                second = run_child(path)
                unchanged = second["counts"]["residents"]["unchanged"]
                assert unchanged == rows, second["counts"]
                print(
                    f"  reimport: {second['seconds']:7.2f} s  "
                    f"{rows / second['seconds']:10,.0f} rows/s  "
                    f"peak RSS {second['max_rss_mb']:,.0f} MiB  (all {unchanged:,} unchanged)",
                    flush=True,
                )
            copy_seconds = raw_copy_seconds(path)
            print(
                f"  raw COPY: {copy_seconds:7.2f} s  {rows / copy_seconds:10,.0f} rows/s  "
                f"(import takes {first['seconds'] / copy_seconds:.1f}x raw COPY)",
                flush=True,
            )
            target_ok = rate >= 50_000 and first["max_rss_mb"] < 1536
            print(
                f"  target (>= 50,000 rows/s, < 1.5 GB): {'met' if target_ok else 'NOT met'}",
                flush=True,
            )
        finally:
            from django.db import connections

            connections.close_all()
            if not args.keep:
                database_drop(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
