"""What the scheduler knows, kept in the database so that every process and host agrees.

`JobState` is one row per periodic job (settings.LINLI_JOBS): when it is due next, how its
last run went, and the lease that keeps it from running twice at once. `JobRun` is the
history of runs, pruned to the newest few hundred per job. `SchedulerHeartbeat` is one row
per scheduler process: a dead scheduler is one whose row stopped moving.
"""

from django.db import models
from django.utils.translation import pgettext_lazy


class JobOutcome(models.TextChoices):
    RUNNING = "running", pgettext_lazy("job run", "Running")
    SUCCEEDED = "succeeded", pgettext_lazy("job run", "Succeeded")
    FAILED = "failed", pgettext_lazy("job run", "Failed")
    # The process running it died (or lost its lease) before it could say how it went.
    INTERRUPTED = "interrupted", pgettext_lazy("job run", "Interrupted")


class JobState(models.Model):
    name = models.CharField(pgettext_lazy("scheduled", "job"), max_length=100, unique=True)
    # The schedule as last seen, in a stable text form: when settings change it, the next
    # run is worked out again.
    schedule = models.CharField(max_length=200)
    # The slot the job is due for. A job runs when this has passed; however many slots were
    # missed while nothing ran, the next run is worked out from the moment it runs (catch-up
    # once, not once per missed slot).
    next_run_at = models.DateTimeField(null=True)
    last_scheduled_for = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_duration_seconds = models.FloatField(null=True, blank=True)
    last_outcome = models.CharField(max_length=12, choices=JobOutcome.choices, blank=True)
    last_result = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    run_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    # The lease: who runs the job now and until when. Taken with one conditional UPDATE and
    # renewed while the job runs; a process that dies lets it expire.
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    job = models.CharField(pgettext_lazy("scheduled", "job"), max_length=100)
    runner = models.CharField(max_length=200)
    scheduled_for = models.DateTimeField(null=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=JobOutcome.choices)
    result = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-id"], name="ops_jobrun_job_newest")]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M:%S}"


class SchedulerHeartbeat(models.Model):
    owner = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return self.owner
