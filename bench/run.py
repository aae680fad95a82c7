"""`make bench`: run every benchmark script in bench/ (each `bench/*.py` except this one and
files starting with "_"), in name order, passing this command's arguments to each
(`bench/run.py --rows 100000` for a quick check). Scripts ignore options they do not know.
Exits non-zero if any script fails."""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> list[Path]:
    return sorted(
        path
        for path in HERE.glob("*.py")
        if path.name != Path(__file__).name and not path.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    failed = []
    for script in scripts():
        print(f"== {script.name} {' '.join(argv)}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *argv], cwd=HERE.parent)
        print(
            f"== {script.name}: exit {result.returncode} in {time.perf_counter() - started:.0f} s"
        )
        if result.returncode:
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
