"""The `linli` console script: Django's management commands under one name.

`linli demo`, `linli serve`, `linli import residents FILE`, `linli migrate` … are all
management commands; this only points Django at our settings.
"""

import os
import sys

from linli.ops.private import private_umask


def main(argv: list[str] | None = None) -> None:
    # Whatever a command writes (the database, exports, dumps) is the service user's alone.
    private_umask()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["linli", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
