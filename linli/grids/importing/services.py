"""The import service, `registry_import`: one transaction over the rows of a file, in batches.

Existing residents are looked up per batch by the keyed hash of their ID number (skipped when
the table was empty at the start); each is compared with its row and updated only when
something changed, with an audit entry of the changes (phone numbers masked). Rows after the
first bad one are still checked (to report them all) but no longer written, and the
transaction is rolled back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import is_within
from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.privacy import encrypt_text, id_number_hash, mask_id_number, mask_phone
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.errors import NotAllowed
from linli.grids.importing.columns import COLUMN_ORDER
from linli.grids.importing.households import HouseholdPlan
from linli.grids.importing.limits import Limits, UploadRefused, upload_inspect
from linli.grids.importing.reading import capped, csv_rows, file_kind, xlsx_rows
from linli.grids.importing.report import ImportAborted, ImportReport, RowError
from linli.grids.importing.validation import RowValidator, mask_bad_id
from linli.grids.importing.writers import TABLES, UPDATE_COLUMNS, writer_for_database
from linli.grids.selectors import scope_for

# Rows per batch: one existence look-up and one COPY each. Measured on 1M rows: 25k, 50k
# and 100k cost the same.
BATCH_ROWS = 50_000


class _Importer:
    def __init__(
        self,
        *,
        actor: User | None,
        scope_paths: list[str],
        report: ImportReport,
        ip_address: str | None = None,
    ):
        self.actor = actor
        self.ip_address = ip_address
        self.scope_paths = scope_paths
        self.report = report
        self.errors = report.errors
        self.writing = not report.dry_run
        self.now = clock.now()
        self.writer = writer_for_database(self.now)
        self.plan = HouseholdPlan(scope_paths=scope_paths, error=self._error)
        self.validator = RowValidator(
            report=report, plan=self.plan, error=self._error, max_year=clock.localdate().year
        )
        self.updates: list[tuple] = []
        self.update_audits: list[AuditEntry] = []

    def _error(self, number: int, column: str, code: str, value: str = "", **params) -> None:
        self.errors.append(RowError(number, column, code, value, tuple(sorted(params.items()))))
        self.writing = False

    # -- batches --------------------------------------------------------------------------

    def process(self, batch: list[tuple], check_existing: bool) -> None:
        hashes = [id_number_hash(row[7]) for row in batch]
        existing = self.writer.lookup(hashes) if check_existing else {}
        counts = self.report.residents
        inserts = []
        writing = self.writing
        for row, digest in zip(batch, hashes, strict=True):
            found = existing.get(digest) if existing else None
            if found is not None:
                self._compare(row, found)
                continue
            counts.created += 1
            if writing:
                _n, household_id, path, name, sex, year, phone, id_number = row[:8]
                inserts.append(
                    (
                        household_id,
                        path,
                        name,
                        sex,
                        year,
                        phone or "",
                        encrypt_text(id_number),
                        digest,
                        mask_id_number(id_number),
                        row[8] or "registered",
                        row[9] or "",
                        row[10] or "",
                    )
                )
        if self.writing:
            # Prepare this batch while the database still takes the last one; then write the
            # batch's new buildings and households (which ends the COPY in flight) and queue
            # the residents.
            payload = self.writer.prepare_residents(inserts) if inserts else None
            self.plan.write_new(self.writer)
            if payload is not None:
                self.writer.write_residents(payload)

    def _compare(self, row: tuple, found: tuple) -> None:
        number, household_id, path, name, sex, year, phone, _id, residency, party, tags = row[:11]
        (_, pk, old_household, old_path, old_name, old_sex, old_year, old_phone) = found[:8]
        old_residency, old_party, old_tags = found[8:11]
        if not is_within(old_path, self.scope_paths):
            self._error(number, "id_number", "not_here", mask_bad_id(_id))
            return
        new = (
            household_id,
            path,
            name,
            sex,
            year,
            old_phone if phone is None else phone,
            old_residency if residency is None else residency,
            old_party if party is None else party,
            old_tags if tags is None else tags,
        )
        old = (
            old_household,
            old_path,
            old_name,
            old_sex,
            old_year,
            old_phone,
            old_residency,
            old_party,
            old_tags,
        )
        if new == old:
            self.report.residents.unchanged += 1
            return
        self.report.residents.updated += 1
        if not self.writing:
            return
        self.updates.append((pk, *new))
        changes = {}
        for column, before, after in zip(UPDATE_COLUMNS, old, new, strict=True):
            if before != after:
                if column == "phone":
                    before, after = mask_phone(before), mask_phone(after)
                changes[column] = [before, after]
        self.update_audits.append(
            AuditEntry(
                actor=self.actor,
                action=AuditAction.UPDATE,
                object_type="resident",
                object_id=str(pk),
                object_label=name[:200],
                changes=changes,
                reason=f"import {self.report.filename}"[:300],
                grid_path=path,
            )
        )

    # -- the whole run --------------------------------------------------------------------

    def run(self, rows: Iterator[tuple[int, list[str]]]) -> None:
        writer, plan = self.writer, self.plan
        if self.writing:
            writer.lock()
        plan.load_existing()
        plan.take_first_free_ids(writer)
        check_existing = writer.table_has_rows(TABLES["resident"])
        batch: list[tuple] = []
        try:
            # A small first batch gets the database busy sooner.
            size = min(BATCH_ROWS, 5_000)
            for row in self.validator.rows(rows):
                batch.append(row)
                if len(batch) >= size:
                    self.process(batch, check_existing)
                    batch, size = [], BATCH_ROWS
        except ImportAborted as aborted:
            self._error(0, "", aborted.code, **aborted.params)
        if batch:
            self.process(batch, check_existing)
        writer.flush()
        report = self.report
        plan.count(report)
        if not self.writing:
            return
        plan.finish(writer)
        if self.updates:
            writer.update_residents(self.updates)
            AuditEntry.objects.bulk_create(self.update_audits, batch_size=2000)
        audit_record(
            actor=self.actor,
            action=AuditAction.IMPORT,
            object_type="registry_import",
            object_label=report.filename,
            changes={"rows": report.rows, **report.counts()},
            grid_path=_common_path(plan.group_paths)
            or (self.scope_paths[0] if self.scope_paths else ""),
            ip_address=self.ip_address,
        )


def import_scope_paths(actor: User | None) -> list[str]:
    """Where `actor` may import: their IMPORT_REGISTRY subtrees; everywhere for the system."""
    if actor is None:
        return ["/"]
    return scope_for(actor).paths_for(Permission.IMPORT_REGISTRY)


def registry_import(
    *,
    actor: User | None,
    source: BinaryIO | str | Path,
    filename: str,
    dry_run: bool = False,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
    ip_address: str | None = None,
) -> ImportReport:
    """Import buildings, households and residents from a .xlsx or .csv file.

    `actor` None is the command line without --as: the system, with the whole registry in
    scope. Returns the report; writes nothing unless every row is good (and not `dry_run`).
    `limits` (the web's: Limits.from_settings()) bound the file before it is parsed; without
    them (the command line, the benchmark) an .xlsx is still checked for its unpacked size,
    compression and cell sizes, but rows are not capped. `progress(rows read)` is called
    every PROGRESS_EVERY rows. Every run that writes nothing (a dry run, a refused file) is
    audited as an import check: file name, rows and counts, never an ID number.
    """
    started = time.perf_counter()
    scope_paths = import_scope_paths(actor)
    if not scope_paths:
        raise NotAllowed(_("You may not import residents."))
    report = ImportReport(filename=Path(filename).name, dry_run=dry_run)
    kind = file_kind(filename)
    if kind is None:
        report.errors.append(RowError(0, "", "file_type"))
        _check_audit(actor, report, scope_paths, ip_address)
        return report
    if limits is None:
        limits = Limits.from_settings(rows=False)
    with ExitStack() as stack:
        binary = (
            stack.enter_context(open(source, "rb")) if isinstance(source, str | Path) else source
        )
        refused = None
        if kind == "xlsx" or limits.rows is not None:
            try:
                upload_inspect(binary, kind, limits)
            except UploadRefused as refusal:
                refused = RowError(
                    refusal.row, "", refusal.code, params=(("limit", refusal.limit),)
                )
        if refused is not None:
            report.errors.append(refused)
        else:
            sheet_rows = csv_rows(binary) if kind == "csv" else xlsx_rows(binary, limits)
            rows = capped(sheet_rows, limits, progress)
            with transaction.atomic():
                importer = _Importer(
                    actor=actor, scope_paths=scope_paths, report=report, ip_address=ip_address
                )
                try:
                    importer.run(rows)
                finally:
                    rows.close()
                    importer.writer.close()
                if not report.written:
                    transaction.set_rollback(True)
    report.errors.sort(key=lambda error: (error.row, COLUMN_ORDER.get(error.column, -1)))
    report.seconds = time.perf_counter() - started
    if not report.written:
        _check_audit(actor, report, scope_paths, ip_address)
    return report


def _check_audit(
    actor: User | None, report: ImportReport, scope_paths: list[str], ip_address: str | None
) -> None:
    """One audit entry for a run that wrote nothing: what was checked, never an ID number."""
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT_CHECK,
        object_type="registry_import",
        object_label=report.filename,
        changes={
            "rows": report.rows,
            "dry_run": report.dry_run,
            "errors": len(report.errors),
            **report.counts(),
        },
        grid_path=_common_path(scope_paths),
        ip_address=ip_address,
    )


def _common_path(paths: Iterable[str]) -> str:
    paths = list(paths)
    if not paths:
        return ""
    prefix = os.path.commonprefix(paths)
    return prefix[: prefix.rfind("/") + 1] or "/"
