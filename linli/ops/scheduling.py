"""Contract between the scheduler (jobs) and the operations endpoints (/readyz, /metrics).

The jobs helper replaces these bodies with the real implementation; the signatures stay.
"""

from dataclasses import dataclass, field


@dataclass
class Readiness:
    ok: bool
    detail: str
    data: dict = field(default_factory=dict)


@dataclass
class JobMetrics:
    name: str
    runs: int
    failures: int
    last_success_at: float | None  # Unix time
    last_duration_seconds: float | None
    late: bool


def scheduler_readiness() -> Readiness:
    """Scheduler heartbeat fresh and no job late or failing."""
    raise NotImplementedError


def job_metrics() -> list[JobMetrics]:
    """Per job: runs and failures since records began, last success, last duration, late."""
    raise NotImplementedError
