"""Exports of the resident registry as .xlsx: masked, scoped and audited.

`resident_export_rows` (a selector) decides what a user may export and how each row looks;
`residents_export` (a service) writes the workbook and one audit entry per export; a
resident's own household's rows (`own_household_rows`) are the first sheet of their download
of everything held about them (linli.privacy.access). Phone and ID numbers are always
masked; vulnerability tags appear only where the user may see them
(`selectors.sensitive_visible`). The columns are the import columns (README "Import
columns"), with Chinese headers and values in Chinese, English ones otherwise.
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.errors import NotAllowed
from linli.exports import xlsx_append
from linli.grids.importing import (
    COLUMNS,
    PARTY_LABELS_ZH,
    RESIDENCY_LABELS_ZH,
    SEX_LABELS_ZH,
    TAG_LABELS_ZH,
)
from linli.grids.models import GridUnit, Resident
from linli.grids.selectors import (
    resident_search,
    residents_visible,
    scope_for,
    sensitive_visible,
)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    count: int

    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chinese() -> bool:
    return (translation.get_language() or "zh-hans").startswith("zh")


def export_header() -> list[str]:
    return [column.zh if _chinese() else column.key for column in COLUMNS]


def _row(user: User, resident: Resident, chinese: bool) -> list:
    household = resident.household
    tags = (
        resident.tags
        if sensitive_visible(
            user=user, grid_path=resident.grid_path, household_id=resident.household_id
        )
        else []
    )
    if chinese:
        sex = SEX_LABELS_ZH.get(resident.sex, resident.sex)
        residency = RESIDENCY_LABELS_ZH.get(resident.residency_type, resident.residency_type)
        party = PARTY_LABELS_ZH.get(resident.party_membership, resident.party_membership)
        tag_text = "、".join(TAG_LABELS_ZH.get(tag, tag) for tag in tags)
    else:
        sex, residency, party = resident.sex, resident.residency_type, resident.party_membership
        tag_text = ";".join(tags)
    return [
        household.building.grid_unit.code,
        household.building.name,
        household.room,
        resident.name,
        sex,
        resident.birth_year,
        resident.phone_masked,
        resident.id_number_masked,
        residency,
        party,
        tag_text,
    ]


def _rows(user: User, residents: QuerySet[Resident]) -> Iterator[list]:
    chinese = _chinese()
    residents = residents.select_related("household__building__grid_unit").order_by(
        "grid_path", "household__building__name", "household__room", "id"
    )
    for resident in residents.iterator(chunk_size=2000):
        yield _row(user, resident, chinese)


def exportable_residents(
    *, user: User, query: str = "", grid_unit: GridUnit | None = None, tag: str = ""
) -> QuerySet[Resident]:
    """The residents `user` may export: visible to them and inside an EXPORT subtree."""
    paths = scope_for(user).paths_for(Permission.EXPORT_REGISTRY)
    return resident_search(user=user, query=query, grid_unit=grid_unit, tag=tag).within(paths)


def resident_export_rows(
    *, user: User, query: str = "", grid_unit: GridUnit | None = None, tag: str = ""
) -> Iterator[list]:
    """Header, then one masked row per exportable resident."""
    yield export_header()
    yield from _rows(
        user, exportable_residents(user=user, query=query, grid_unit=grid_unit, tag=tag)
    )


def _workbook(rows: Iterator[list], title: str) -> tuple[bytes, int]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    count = -1  # the header is not a resident
    for row in rows:
        xlsx_append(sheet, row)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), max(count, 0)


@transaction.atomic
def residents_export(
    *,
    user: User,
    query: str = "",
    grid_unit: GridUnit | None = None,
    tag: str = "",
    ip_address: str | None = None,
) -> ExportFile:
    """The resident list as .xlsx for a user with the export permission; audited."""
    scope = scope_for(user)
    paths = scope.paths_for(Permission.EXPORT_REGISTRY)
    if not paths or (
        grid_unit is not None and not scope.allows(Permission.EXPORT_REGISTRY, grid_unit.path)
    ):
        raise NotAllowed(_("You may not export residents."))
    content, count = _workbook(
        resident_export_rows(user=user, query=query, grid_unit=grid_unit, tag=tag),
        title="居民" if _chinese() else "Residents",
    )
    filters = {"q": query.strip(), "grid": grid_unit.code if grid_unit else "", "tag": tag}
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="resident",
        object_label="residents.xlsx",
        changes={"count": count, "filter": {key: value for key, value in filters.items() if value}},
        grid_path=grid_unit.path if grid_unit else (paths[0] if len(paths) == 1 else "/"),
        ip_address=ip_address,
    )
    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(filename=f"residents-{stamp}.xlsx", content=content, count=count)


def own_household_rows(*, user: User) -> tuple[list[list], tuple[int, ...], str]:
    """The user's own household as rows (header first, numbers masked), its ids and its grid
    path: the first sheet of a resident's download of all their data (linli.privacy)."""
    household_ids = scope_for(user).own_household_ids
    if not household_ids:
        raise NotAllowed(_("You have no household to export."))
    residents = residents_visible(user=user).filter(household_id__in=household_ids)
    first = residents.select_related(None).values_list("grid_path", flat=True).first() or ""
    return [export_header(), *_rows(user, residents)], household_ids, first
