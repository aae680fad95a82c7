"""The audit log as staff read it: filtered within the reader's scope, and exported by the
street administrator as a spreadsheet in words (linli.accounts.audit_words), itself audited.

Everyone who may read the audit log (VIEW_AUDIT: the secretary for their community, the
street administrator for the street) filters it; only EXPORT_AUDIT (the street
administrator, and a superuser) downloads it.
"""

import io
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from linli import clock
from linli.accounts.audit_words import actor_name, describe
from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.reveals import day_start
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.errors import NotAllowed
from linli.exports import xlsx_append
from linli.grids.models import GridUnit
from linli.grids.selectors import audit_entries_visible, scope_for

# At most this many entries in one download: narrow the filter for more.
EXPORT_MAX_ROWS = 50_000
# Whom the "who" filter offers: the people seen in the reader's entries, this many at most.
ACTORS_OFFERED = 300
SYSTEM = "system"


@dataclass(frozen=True)
class AuditFilter:
    """What to show; every field optional. `actor` is a user id or SYSTEM (no person)."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""

    def as_words(self) -> dict:
        """The filter as the export's audit entry keeps it (only what was set)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "text": self.text,
        }
        return {key: value for key, value in values.items() if value}


def audit_entries_filtered(*, user: User, filters: AuditFilter) -> QuerySet[AuditEntry]:
    entries = audit_entries_visible(user=user)
    if filters.actor == SYSTEM:
        entries = entries.filter(actor__isnull=True)
    elif filters.actor.isdigit():
        entries = entries.filter(actor_id=int(filters.actor))
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.date_from:
        entries = entries.filter(created_at__gte=day_start(filters.date_from))
    if filters.date_to:
        entries = entries.filter(created_at__lt=day_start(filters.date_to + timedelta(days=1)))
    if filters.text:
        entries = entries.filter(
            Q(object_label__icontains=filters.text) | Q(reason__icontains=filters.text)
        )
    return entries


def audit_actor_choices(*, user: User) -> list[tuple[str, str]]:
    """(user id, name) of the people seen in the entries the reader may see, by name."""
    rows = (
        audit_entries_visible(user=user)
        .filter(actor__isnull=False)
        .order_by()
        .values_list("actor_id", "actor__display_name", "actor__username")
        .distinct()[:ACTORS_OFFERED]
    )
    people = {str(pk): display or username for pk, display, username in rows}
    return sorted(people.items(), key=lambda item: item[1])


def audit_object_types(*, user: User) -> list[str]:
    return sorted(
        audit_entries_visible(user=user).order_by().values_list("object_type", flat=True).distinct()
    )


def may_export_audit(user: User) -> bool:
    return scope_for(user).allows_anywhere(Permission.EXPORT_AUDIT)


def grid_names(paths) -> dict[str, str]:
    """The name of the grid unit at each path (for the log's "grid" column)."""
    wanted = {path for path in paths if path}
    return dict(GridUnit.objects.filter(path__in=wanted).values_list("path", "name"))


def audit_header() -> list[str]:
    return [
        _("Time (Beijing)"),
        _("Who"),
        pgettext("audit column", "What"),
        _("Details"),
        _("Reason"),
        pgettext("audit column", "IP address"),
        _("Grid"),
    ]


def _rows(entries: QuerySet[AuditEntry]):
    batch: list[AuditEntry] = []
    for entry in entries.iterator(chunk_size=2000):
        batch.append(entry)
        if len(batch) == 2000:
            yield from _described(batch)
            batch = []
    yield from _described(batch)


def _described(batch: list[AuditEntry]):
    names = grid_names(entry.grid_path for entry in batch)
    for entry in batch:
        line = describe(entry)
        yield [
            timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            actor_name(entry),
            line.sentence,
            "\n".join(line.details),
            line.reason,
            entry.ip_address or "",
            names.get(entry.grid_path, ""),
        ]


@dataclass(frozen=True)
class AuditExport:
    filename: str
    content: bytes
    count: int


@transaction.atomic
def audit_log_export(
    *, user: User, filters: AuditFilter, ip_address: str | None = None
) -> AuditExport:
    """The entries `filters` selects in the user's scope as .xlsx (cells neutralised), and
    one audit entry saying so. Only for EXPORT_AUDIT (the street administrator)."""
    if not may_export_audit(user):
        raise NotAllowed(_("You may not export the audit log."))
    entries = audit_entries_filtered(user=user, filters=filters).select_related("actor")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Audit log")[:31])
    xlsx_append(sheet, audit_header())
    count = 0
    for row in _rows(entries[:EXPORT_MAX_ROWS]):
        xlsx_append(sheet, row)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    paths = scope_for(user).paths_for(Permission.EXPORT_AUDIT)
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="audit_log",
        object_label="audit-log.xlsx",
        changes={"count": count, "filter": filters.as_words()},
        grid_path=paths[0] if len(paths) == 1 else "/",
        ip_address=ip_address,
    )
    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    return AuditExport(filename=f"audit-log-{stamp}.xlsx", content=buffer.getvalue(), count=count)
