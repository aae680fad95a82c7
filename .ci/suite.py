"""The runs of `make test`, each recorded, and the block that sums them up.

    suite.py reset
        forget the runs recorded so far (`make test` starts with it).
    suite.py run NAME -- COMMAND...
        run COMMAND (lint, or pytest), show its output and keep it in var/test-runs/NAME.log,
        print its outcome with the database and clock it used, record it; exit as it did.
    suite.py run NAME --postgres URL -- COMMAND...
        the same against PostgreSQL at URL (DATABASE_URL for the command). When PostgreSQL
        does not answer, say so loudly and record the run as skipped: a failure when CI or
        LINLI_REQUIRE_POSTGRES is set (CI must prove both databases), a warning otherwise
        (a fresh clone on a laptop without PostgreSQL can still test on SQLite).
    suite.py summary
        print one line per recorded run; exit non-zero if any failed.

Why a file of rows: `make test` runs every run even when one fails and then says what
happened to each, and make keeps nothing between recipes; the rows live under var/.
Standard library only, apart from psycopg for the PostgreSQL probe.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

RUNS = Path(__file__).resolve().parent.parent / "var" / "test-runs"
ROWS = RUNS / "runs.jsonl"
COUNTED = ("passed", "failed", "errors", "skipped")
# pytest's last line, e.g. "==== 2 failed, 2384 passed, 20 skipped in 327.33s (0:05:27) ====".
SUMMARY_LINE = re.compile(
    r"\b(\d+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)|no tests ran)\b"
)


def truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def database_label(url: str | None) -> str:
    if not url:
        return "SQLite (in memory)"
    parts = urlsplit(url)
    # Host, port and name only: never a password that the URL may carry.
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"


def clock_label() -> str:
    return os.environ.get("LINLI_TEST_CLOCK", "").strip() or "real"


def pytest_summary(output: str) -> tuple[str, dict[str, int]]:
    lines = [line for line in output.splitlines() if SUMMARY_LINE.search(line) and " in " in line]
    if not lines:
        return "", {}
    line = lines[-1].strip("= \n")
    counts = dict.fromkeys(COUNTED, 0)
    for number, kind in re.findall(r"(\d+) (passed|failed|errors?|skipped)\b", line):
        counts["errors" if kind.startswith("error") else kind] += int(number)
    return line, counts


def record(row: dict) -> None:
    RUNS.mkdir(parents=True, exist_ok=True)
    with ROWS.open("a", encoding="utf-8") as rows:
        rows.write(json.dumps(row, ensure_ascii=False) + "\n")


def run(name: str, command: list[str], postgres_url: str | None) -> int:
    environment = dict(os.environ)
    if postgres_url is not None:
        environment["DATABASE_URL"] = postgres_url
    database = database_label(environment.get("DATABASE_URL"))
    row = {"name": name, "database": database, "clock": clock_label()}
    if name == "lint":  # ruff and the migrations check: no test database, no clock
        row.update(database="-", clock="-")

    if postgres_url is not None and not postgres_answers(postgres_url):
        required = truthy("CI") or truthy("LINLI_REQUIRE_POSTGRES")
        print(
            f"\n*** {database} is not reachable: the PostgreSQL run is SKIPPED"
            + (
                " and that FAILS this run (CI or LINLI_REQUIRE_POSTGRES is set) ***"
                if required
                else " (set LINLI_REQUIRE_POSTGRES=1 to make this a failure) ***"
            ),
            flush=True,
        )
        record(
            {
                **row,
                "result": "failed" if required else "skipped",
                "summary": "PostgreSQL not reachable",
                "seconds": 0,
            }
        )
        return 1 if required else 0

    RUNS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"\n=== {name}: {row['database']}, clock {row['clock']} ===", flush=True)
    with (RUNS / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        chunks = []
        # Passed on as it comes (pytest's progress dots have no newline until a row is full).
        while chunk := os.read(process.stdout.fileno(), 65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            log.write(chunk)
            chunks.append(chunk)
        status = process.wait()
    seconds = round(time.monotonic() - started)
    summary, counts = pytest_summary(b"".join(chunks).decode("utf-8", "replace"))
    result = "passed" if status == 0 else "failed"
    record({**row, "result": result, "summary": summary, "seconds": seconds, **counts})
    print(
        f"=== {name} {result.upper()} on {row['database']}, clock {row['clock']}: "
        f"{summary or f'exit status {status}'} ===",
        flush=True,
    )
    return status


def postgres_answers(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    # The server's maintenance database: the suite's own database may not exist yet.
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    try:
        psycopg.connect(maintenance, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def summary() -> int:
    rows = [json.loads(line) for line in ROWS.read_text().splitlines()] if ROWS.exists() else []
    print("\n== make test: summary " + "=" * 101)
    print(
        f"{'run':<9} {'database':<40} {'clock':<27} {'result':<8}"
        f" {'passed':>6} {'failed':>6} {'errors':>6} {'skipped':>7} {'time':>6}"
    )
    for row in rows:
        counts = [str(row[kind]) if kind in row else "-" for kind in COUNTED]
        minutes, seconds = divmod(row.get("seconds", 0), 60)
        print(
            f"{row['name']:<9} {row['database']:<40} {row['clock']:<27} {row['result']:<8}"
            f" {counts[0]:>6} {counts[1]:>6} {counts[2]:>6} {counts[3]:>7}"
            f" {minutes:>3}:{seconds:02d}"
        )
    failed = [row["name"] for row in rows if row["result"] == "failed"]
    if not rows:
        print("no run recorded")
        return 1
    print("=" * 123)
    print(f"FAILED: {', '.join(failed)}" if failed else "all runs passed")
    return 1 if failed else 0


def main(arguments: list[str]) -> int:
    if arguments == ["reset"]:
        ROWS.unlink(missing_ok=True)
        return 0
    if arguments == ["summary"]:
        return summary()
    if len(arguments) >= 3 and arguments[0] == "run" and "--" in arguments:
        split = arguments.index("--")
        name, options, command = arguments[1], arguments[2:split], arguments[split + 1 :]
        if command and not options:
            return run(name, command, None)
        if command and len(options) == 2 and options[0] == "--postgres":
            return run(name, command, options[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
