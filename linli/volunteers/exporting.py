"""The service-hours ledger as .xlsx: scoped, audited, no phone numbers.

Two sheets: every entry of the period, then the totals per volunteer. Staff export what
their VOLUNTEERS_VIEW paths cover; a volunteer exports their own hours. Headers follow the
request's language (Chinese first).
"""

import io
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.errors import NotAllowed
from linli.exports import xlsx_append
from linli.grids.selectors import scope_for
from linli.volunteers import selectors
from linli.volunteers.models import HoursSource


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    count: int

    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def hours_export_sheets(
    *, user: User, start: date | None = None, end: date | None = None
) -> tuple[list[list], list[list]]:
    """(entries sheet rows, totals sheet rows), each with its header first."""
    sources = dict(HoursSource.choices)
    entries = [
        [_("Date"), _("Volunteer"), _("Team"), _("Hours"), _("Source"), _("Source id"), _("Note")]
    ]
    for entry in selectors.hours_entries(user=user, start=start, end=end).order_by(
        "occurred_on", "id"
    ):
        entries.append(
            [
                entry.occurred_on,
                entry.volunteer.name,
                entry.team.name if entry.team_id else "",
                float(entry.hours),
                str(sources.get(entry.source_kind, entry.source_kind)),
                entry.source_id,
                entry.note,
            ]
        )
    totals = [[_("Volunteer"), _("Total hours")]]
    for row in selectors.hours_totals_by_volunteer(user=user, start=start, end=end):
        totals.append([row["name"], float(row["total"])])
    return entries, totals


@transaction.atomic
def hours_export(
    *,
    user: User,
    start: date | None = None,
    end: date | None = None,
    ip_address: str | None = None,
) -> ExportFile:
    from openpyxl import Workbook

    scope = scope_for(user)
    paths = scope.paths_for(selectors.VIEW)
    own = selectors.own_volunteer(user=user)
    if not paths and own is None:
        raise NotAllowed(_("You may not export service hours."))
    entries, totals = hours_export_sheets(user=user, start=start, end=end)
    workbook = Workbook(write_only=True)
    for title, rows in ((_("Service hours"), entries), (_("Totals"), totals)):
        sheet = workbook.create_sheet(title=title[:31])
        for row in rows:
            xlsx_append(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    count = len(entries) - 1
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="service_hours",
        object_label="service-hours.xlsx",
        changes={
            "count": count,
            "filter": {
                key: value.isoformat() for key, value in (("start", start), ("end", end)) if value
            },
        },
        grid_path=(paths[0] if len(paths) == 1 else "/") if paths else own.grid_path,
        ip_address=ip_address,
    )
    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(
        filename=f"service-hours-{stamp}.xlsx", content=buffer.getvalue(), count=count
    )
