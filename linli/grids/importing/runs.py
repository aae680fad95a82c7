"""Large registry imports run in the background (`linli worker`), with a progress page.

`import_run_start` (the web, after the upload passed its limits) keeps the file in private
storage (linli.storage, never world-readable, no URL), records an ImportRun and queues the
Celery task once the row is committed. `import_run_execute` (the task) runs the same
`registry_import` as the page would, with the importer's scope as it is then, tells the
shared cache how many rows it has read (the import writes in one transaction, so the row in
the database cannot show progress until it ends), stores the report (every bad row, as the
page shows it for a small file: a web upload has at most LINLI_IMPORT_MAX_ROWS rows) and
deletes the file.

The import changes no state of the worker's process (such as the GIL switch interval that
speeds up `linli import`): the worker runs other tasks beside it.
"""

from __future__ import annotations

import logging
from typing import Any, BinaryIO, cast

from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from linli import clock
from linli.accounts.models import User
from linli.errors import get_visible_or_404
from linli.grids.importing.limits import Limits
from linli.grids.importing.report import ImportReport, RowError
from linli.grids.importing.services import registry_import
from linli.grids.models import ImportRun, ImportRunState

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 24 * 3600


def _progress_key(run_id: int) -> str:
    return f"grids:import-run:{run_id}:rows"


def import_run_progress(run: ImportRun) -> int:
    """Rows read so far: the stored count once finished, the cache's while running."""
    if run.state != ImportRunState.RUNNING:
        return run.rows_read
    return cache.get(_progress_key(run.pk)) or 0


def import_run_get(*, user: User, run_id: int) -> ImportRun:
    """One background import of `user`'s: nobody else sees it, not even its existence."""
    return get_visible_or_404(ImportRun.objects.filter(actor=user), run_id)


def import_run_start(
    *,
    actor: User,
    upload: BinaryIO,
    filename: str,
    dry_run: bool,
    rows_expected: int,
    ip_address: str | None = None,
) -> ImportRun:
    """Keep the upload privately and queue its import; the task starts after commit."""
    from linli.grids.tasks import import_run_task

    upload.seek(0)
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    with transaction.atomic():
        run = ImportRun.objects.create(
            actor=actor,
            filename=filename[:200],
            dry_run=dry_run,
            rows_expected=rows_expected,
            ip_address=ip_address,
        )
        run.stored_name = default_storage.save(
            f"imports/run-{run.pk}{suffix}", File(upload, name=f"run-{run.pk}{suffix}")
        )
        run.save(update_fields=["stored_name"])
        transaction.on_commit(lambda: import_run_task.delay(run.pk))
    return run


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "written": report.written,
        "rows": report.rows,
        "counts": report.counts(),
        "error_count": len(report.errors),
        "errors": [
            {
                "row": error.row,
                "column": error.column,
                "code": error.code,
                "value": error.value,
                "params": [list(pair) for pair in error.params],
            }
            for error in report.errors
        ],
    }


def report_errors(run: ImportRun) -> list[RowError]:
    """The stored errors as RowError (for their messages in both languages)."""
    return [
        RowError(
            error["row"],
            error["column"],
            error["code"],
            error["value"],
            tuple(tuple(pair) for pair in error["params"]),
        )
        for error in run.report.get("errors", [])
    ]


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Run a queued import (the Celery task). A run already taken is left alone."""
    taken = ImportRun.objects.filter(pk=run_id, state=ImportRunState.QUEUED).update(
        state=ImportRunState.RUNNING, started_at=clock.now()
    )
    if not taken:
        return None
    run = ImportRun.objects.select_related("actor").get(pk=run_id)
    key = _progress_key(run.pk)
    cache.set(key, 0, PROGRESS_SECONDS)

    def progress(rows: int) -> None:
        cache.set(key, rows, PROGRESS_SECONDS)

    state = ImportRunState.DONE
    try:
        with default_storage.open(run.stored_name, "rb") as stored:
            report = registry_import(
                actor=run.actor,
                source=cast(BinaryIO, stored),
                filename=run.filename,
                dry_run=run.dry_run,
                limits=Limits.from_settings(),
                progress=progress,
                ip_address=run.ip_address,
            )
        run.report = _report_json(report)
        run.rows_read = report.rows
    except Exception:
        logger.exception("Import run %s failed", run.pk)
        state = ImportRunState.FAILED
        run.report = {}
    finally:
        try:
            default_storage.delete(run.stored_name)
        except OSError:
            logger.warning("Could not delete the stored upload of import run %s", run.pk)
        cache.delete(key)
    run.state = state
    run.stored_name = ""
    run.finished_at = clock.now()
    run.save(update_fields=["state", "stored_name", "finished_at", "report", "rows_read"])
    return run
