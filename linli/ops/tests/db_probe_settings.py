"""Settings of the web server that test_faults_database.py runs against its own PostgreSQL:
the production settings, DATABASES included (CONN_MAX_AGE, CONN_HEALTH_CHECKS), with one
URL that asks the database which server process answers.

LINLI_PROBE_WITHOUT_HEALTH_CHECKS=1 turns the health checks off, to show the fault they fix.
"""

import os

from linli.settings import *  # noqa: F403 - everything as deployed
from linli.settings import DATABASES

ROOT_URLCONF = "linli.ops.tests.db_probe_urls"
if os.environ.get("LINLI_PROBE_WITHOUT_HEALTH_CHECKS") == "1":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
