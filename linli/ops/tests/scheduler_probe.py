"""One scheduler process for the lock tests: `python -m linli.ops.tests.scheduler_probe DIR NAME`.

Sets up Django on the database in DATABASE_URL, with one job (the half-second
`ops_tests.slow`), says it is ready (DIR/NAME.ready), waits for DIR/go, runs the due jobs
once and prints the outcomes as JSON. Several started together race for the one job.
"""

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    folder, name = Path(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    from django.conf import settings

    from linli.ops.scheduler import Scheduler
    from linli.ops.tests import jobs_support  # noqa: F401 - registers the test tasks

    settings.LINLI_JOBS = {"slow": {"task": "ops_tests.slow", "schedule": 3600.0}}
    scheduler = Scheduler(owner=f"probe-{name}:{os.getpid()}")
    (folder / f"{name}.ready").touch()
    deadline = time.monotonic() + 60
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            sys.exit("no go within 60 s")
        time.sleep(0.005)
    print(json.dumps(scheduler.run_due_once()))


if __name__ == "__main__":
    main()
