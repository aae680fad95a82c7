"""Prometheus metrics: request counts and latencies (recorded by the request middleware) and
the platform's state, read from the database at scrape time.

Under gunicorn each worker process counts its own requests: in multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, set up by `gunicorn_setup` when `linli serve` starts) every worker
writes its counters to files there and a scrape, answered by any one worker, adds them all
up. The state gauges come from the database on every scrape, so whichever process answers,
they agree.
"""

import hmac
import ipaddress
import os
from pathlib import Path

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

# Request metrics live in their own registry: in multiprocess mode the scrape reads them from
# the workers' files instead, and must not also read this process's copy.
REQUEST_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "linli_http_requests",
    "HTTP requests answered, by URL route name, method and status.",
    ["route", "method", "status_class", "status"],
    registry=REQUEST_REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "linli_http_request_duration_seconds",
    "Time to answer an HTTP request (to the first byte of a streamed answer).",
    ["route", "method", "status_class"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REQUEST_REGISTRY,
)


def request_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    status_class = f"{status // 100}xx"
    REQUESTS.labels(route, method, status_class, str(status)).inc()
    REQUEST_SECONDS.labels(route, method, status_class).observe(seconds)


# Access -------------------------------------------------------------------------------------

FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def monitoring_access_allowed(request) -> bool:
    """From this machine (not relayed by a proxy from elsewhere), or with the metrics token.

    A reverse proxy on the same machine connects from 127.0.0.1 too, so a forwarding header
    means the caller is somewhere else: it then needs the token like any remote caller.
    """
    token = settings.LINLI_METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if token and authorization.startswith("Bearer "):
        offered = authorization.removeprefix("Bearer ").strip()
        if hmac.compare_digest(offered.encode(), token.encode()):
            return True
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


# Multiprocess mode ----------------------------------------------------------------------------


def multiprocess_directory() -> Path | None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(directory) if directory else None


def gunicorn_setup() -> dict[str, object]:
    """Prepare metrics and logs for gunicorn's worker processes; returns its settings.

    Clears the counters of the previous run, switches prometheus_client to multiprocess mode
    in this (master) process before any worker is forked, and returns the gunicorn settings
    that go with it: the access log off (the request log replaces it: it has the route name,
    never the query string with its api_key), the error log redacted and formatted like the
    rest, and a hook that tells prometheus_client when a worker has gone.
    """
    directory = multiprocess_directory() or settings.VAR_DIR / "prometheus"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    # prometheus_client chooses its value class when first imported, from this variable; the
    # system checks of `linli serve` import it (through the URLs) before this runs.
    values.ValueClass = values.get_value_class()
    return {
        "accesslog": None,
        "logger_class": "linli.ops.logging.GunicornLogger",
        "child_exit": gunicorn_child_exit,
    }


def gunicorn_child_exit(server, worker) -> None:
    multiprocess.mark_process_dead(worker.pid)


# The platform's state, from the database ------------------------------------------------------


class PlatformCollector:
    """Gauges read at scrape time. A source that fails is reported as down
    (linli_metrics_source_up 0), and the rest of the scrape still answers."""

    def collect(self):
        up = GaugeMetricFamily(
            "linli_metrics_source_up",
            "1 when the source of a group of metrics answered this scrape.",
            labels=["source"],
        )
        for source, collect in (("database", self.database), ("jobs", self.jobs)):
            try:
                families = list(collect())
            except Exception:
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def database(self):
        from django.db.models import Count, Min

        from linli import clock
        from linli.cases.models import Case
        from linli.emergency.models import OPEN_TASK_STATES, Task
        from linli.notify.models import Channel, OutboxMessage, OutboxStatus

        now = clock.now()
        waiting = (OutboxStatus.PENDING, OutboxStatus.FAILED)
        depth = GaugeMetricFamily(
            "linli_outbox_messages",
            "Outbox messages not delivered, by channel and state (pending: to be tried; "
            "failed: given up).",
            labels=["channel", "state"],
        )
        counts = {
            (row["channel"], row["status"]): row["count"]
            for row in OutboxMessage.objects.filter(status__in=waiting)
            .values("channel", "status")
            .annotate(count=Count("id"))
        }
        for channel in Channel.values:
            for state in waiting:
                depth.add_metric([channel, state], counts.get((channel, state), 0))
        yield depth

        oldest = GaugeMetricFamily(
            "linli_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message, by channel (0 when none waits): grows "
            "when deliveries have stopped.",
            labels=["channel"],
        )
        oldest_by_channel = dict(
            OutboxMessage.objects.pending()
            .values("channel")
            .annotate(oldest=Min("created_at"))
            .values_list("channel", "oldest")
        )
        for channel in Channel.values:
            created = oldest_by_channel.get(channel)
            oldest.add_metric([channel], (now - created).total_seconds() if created else 0)
        yield oldest

        yield GaugeMetricFamily(
            "linli_cases_overdue",
            "Cases still being handled after their due time.",
            value=Case.objects.overdue(now).count(),
        )

        tasks = GaugeMetricFamily(
            "linli_emergency_tasks_open",
            "Emergency tasks not yet done or cancelled, by state and whether it is a drill.",
            labels=["state", "drill"],
        )
        task_counts = {
            (row["state"], row["activation__is_drill"]): row["count"]
            for row in Task.objects.open()
            .values("state", "activation__is_drill")
            .annotate(count=Count("id"))
        }
        for state in OPEN_TASK_STATES:
            for drill in (False, True):
                tasks.add_metric([state, str(drill).lower()], task_counts.get((state, drill), 0))
        yield tasks

    def jobs(self):
        from linli.ops.scheduling import job_metrics

        rows = job_metrics()
        runs = CounterMetricFamily(
            "linli_job_runs", "Runs of a periodic job since records began.", labels=["job"]
        )
        failures = CounterMetricFamily(
            "linli_job_failures", "Failed runs of a periodic job.", labels=["job"]
        )
        late = GaugeMetricFamily(
            "linli_job_late", "1 when a periodic job has not run when due.", labels=["job"]
        )
        last_success = GaugeMetricFamily(
            "linli_job_last_success_timestamp_seconds",
            "When a periodic job last succeeded (Unix time).",
            labels=["job"],
        )
        last_duration = GaugeMetricFamily(
            "linli_job_last_duration_seconds",
            "How long the last run of a periodic job took.",
            labels=["job"],
        )
        for row in rows:
            runs.add_metric([row.name], row.runs)
            failures.add_metric([row.name], row.failures)
            late.add_metric([row.name], 1 if row.late else 0)
            if row.last_success_at is not None:
                last_success.add_metric([row.name], row.last_success_at)
            if row.last_duration_seconds is not None:
                last_duration.add_metric([row.name], row.last_duration_seconds)
        return [runs, failures, late, last_success, last_duration]


def metrics_exposition() -> tuple[bytes, str]:
    """The body and content type of a scrape."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_directory()
    if directory is not None:
        multiprocess.MultiProcessCollector(registry, path=str(directory))
    else:
        registry.register(REQUEST_REGISTRY)
    registry.register(PlatformCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
