"""Filing a case: from a person (resident or staff, with the photos of the problem), from a
visit finding, or from a trusted channel (an Open311 key) filing for people without a login.
"""

import uuid
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import is_within
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.cases.models import ESCALATION_ORDER, Case, CaseCategory, CasePriority, CaseSource
from linli.cases.services.events import event_append
from linli.cases.services.notices import case_filed_notify
from linli.cases.services.photos import PhotoFiles, PreparedPhoto, case_photos_add, photos_prepare
from linli.errors import NotAllowed, status_for
from linli.grids.models import Building, GridLevel, GridUnit, Resident, Visit
from linli.grids.selectors import grid_unit_at_point, scope_for


def _resident_of(user: User | None) -> Resident | None:
    account = getattr(user, "resident_account", None) if user is not None else None
    return account.resident if account is not None else None


def _check_point(
    latitude: Decimal | float | None, longitude: Decimal | float | None, errors: dict[str, str]
) -> None:
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
        return
    if latitude is not None:
        if not -90 <= Decimal(str(latitude)) <= 90:
            errors["latitude"] = _("Latitude must be between -90 and 90.")
        if not -180 <= Decimal(str(longitude)) <= 180:
            errors["longitude"] = _("Longitude must be between -180 and 180.")


def _reserve_case_id() -> int | None:
    """PostgreSQL: the next id from the table's sequence, so that the reference goes into
    the INSERT itself. SQLite has no sequence to draw from (the reference is set after)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('cases_case', 'id'))")
        row = cursor.fetchone()
    return int(row[0]) if row is not None else None


def _case_reference(now: datetime, case_id: int) -> str:
    # The primary key makes the reference unique without a per-day counter row to lock.
    return f"A{timezone.localdate(now):%Y%m%d}{case_id:06d}"


def _refusals_together(*refusals: ValidationError) -> ValidationError:
    """One refusal holding several, each message under its field, so that a form shows every
    problem at once. The refusal that decides the HTTP status (linli.errors.status_for) comes
    first, so that the API's answer names the problem its status speaks of; otherwise they
    keep the order given."""
    gathered: dict[str, list[ValidationError]] = {}
    for refusal in refusals:
        refusal.update_error_dict(gathered)
    status = status_for(ValidationError(gathered))
    ordered: dict[str, list[ValidationError]] = {}
    for refusal in sorted(refusals, key=lambda refusal: status_for(refusal) != status):
        refusal.update_error_dict(ordered)
    return ValidationError(ordered)


@transaction.atomic
def case_create(
    *,
    reporter: User | None,
    category: CaseCategory | None,
    description: str,
    source: str,
    building: Building | None = None,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    grid_unit: GridUnit | None = None,
    visit: Visit | None = None,
    hotline_reference: str = "",
    priority: str = CasePriority.NORMAL,
    title: str = "",
    within: GridUnit | None = None,
    channel_community: GridUnit | None = None,
    photos: PhotoFiles = (),
) -> Case:
    """File a case, routed to the grid unit that owns its place, due by the category SLA.

    The place is a building, a grid unit, or a point on the map (`within` narrows the search
    for the unit that owns the point). `channel_community` is set by a trusted channel that
    files for people without a login (an Open311 key): it stands in for the reporter's
    permission, and the place must lie inside that community.

    `photos` (at most 3, the rules of services.photos) document the filing step and are
    stored in the same transaction: a refused photo, or a disk that refuses to store it,
    files nothing. They are checked first, and a refusal names what is wrong with the photos
    and with the case together, so that the form shows every problem at once."""
    prepared: list[PreparedPhoto] = []
    photo_error: ValidationError | None = None
    if photos:
        try:
            prepared = photos_prepare(files=photos, actor=reporter)
        except ValidationError as error:
            photo_error = error

    def refused(error: ValidationError) -> ValidationError:
        return error if photo_error is None else _refusals_together(photo_error, error)

    if channel_community is not None:
        within = channel_community
    errors: dict[str, str] = {}
    if category is None or not isinstance(category, CaseCategory):
        errors["category"] = _("Choose a category.")
    elif category.is_major or not category.is_active:
        errors["category"] = _("Choose an active minor category, not a major class.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe the problem.")
    elif len(description) > 2000:
        errors["description"] = _("The description is limited to 2,000 characters.")
    if source not in CaseSource.values:
        errors["source"] = _("Unknown source: %(source)s") % {"source": source}
    hotline_reference = (hotline_reference or "").strip()
    if source == CaseSource.HOTLINE_12345 and not hotline_reference:
        errors["hotline_reference"] = _("A 12345 transfer needs its reference number.")
    if priority not in CasePriority.values:
        errors["priority"] = _("Unknown priority: %(priority)s") % {"priority": priority}
    _check_point(latitude, longitude, errors)
    if building is not None:
        grid_unit = building.grid_unit
        if latitude is None and building.latitude is not None:
            latitude, longitude = building.latitude, building.longitude
    elif grid_unit is None and latitude is not None and "latitude" not in errors:
        grid_unit = grid_unit_at_point(latitude=latitude, longitude=longitude, within=within)
        if grid_unit is None:
            errors["latitude"] = _(
                "This point is outside the grid units we know; choose a building instead."
            )
    elif grid_unit is None and "latitude" not in errors:
        errors["building"] = _("Say where the problem is: a building or a point on the map.")
    if grid_unit is not None and grid_unit.level not in ESCALATION_ORDER:
        errors["grid_unit"] = _("A case belongs to a building group, micro-grid or community.")
    # Without a category or a place, `errors` already says so.
    if errors or category is None or grid_unit is None:
        raise refused(ValidationError(errors))

    resident = _resident_of(reporter)
    if channel_community is not None:
        if not is_within(grid_unit.path, [channel_community.path]):
            raise refused(
                NotAllowed(
                    _("This key may only file cases in %(community)s.")
                    % {"community": channel_community.name}
                )
            )
    elif not scope_for(reporter).allows(Permission.CASE_FILE, grid_unit.path):
        # A resident files in the community they live in.
        home = resident.grid_path if resident is not None else None
        community = GridUnit.objects.filter(
            path__in=grid_unit.ancestor_paths(), level=GridLevel.COMMUNITY
        ).first()
        if home is None or community is None or not is_within(home, [community.path]):
            raise refused(NotAllowed(_("You may not file a case here.")))
    if priority != CasePriority.NORMAL and (
        channel_community is not None
        or not scope_for(reporter).allows(Permission.CASE_FILE, grid_unit.path)
    ):
        # Urgency is staff's judgement, from a post covering the place: a resident (or a
        # reporter holding a post elsewhere) cannot jump the queue.
        raise refused(
            ValidationError(
                {"priority": _("Only staff whose post covers this place may set a priority.")}
            )
        )
    if photo_error is not None:
        raise photo_error

    now = clock.now()
    due = now + category.time_limit
    case_id = _reserve_case_id()
    case = Case.objects.create(
        id=case_id,
        # Without a reserved id, a placeholder until the primary key is known (never shown).
        reference=_case_reference(now, case_id) if case_id else uuid.uuid4().hex,
        source=source,
        hotline_reference=hotline_reference,
        category=category,
        title=(title or description.splitlines()[0])[:100],
        description=description,
        grid_unit=grid_unit,
        grid_path=grid_unit.path,
        building=building,
        latitude=latitude,
        longitude=longitude,
        reporter=reporter,
        reporter_resident=resident,
        visit=visit,
        priority=priority,
        owner_unit=grid_unit,
        handler_text=category.usual_handler,
        due_at=due,
        original_due_at=due,
        escalation_level=grid_unit.level,
        created_at=now,
    )
    if case_id is None:
        case.reference = _case_reference(now, case.pk)
        case.save(update_fields=["reference"])
    # The filing step carries the case's own timestamp.
    filing = event_append(case=case, actor=reporter, action="create", from_state="", at=now)
    if prepared:
        case_photos_add(case=case, actor=reporter, files=prepared, event=filing)
    # The place's leaders and the area's followers; sent only if the filing commits.
    case_filed_notify(case=case, actor=reporter)
    return case


@transaction.atomic
def case_from_visit(
    *,
    actor: User,
    visit: Visit,
    category: CaseCategory,
    description: str = "",
    photos: PhotoFiles = (),
) -> Case:
    """Turn a visit finding into a case in one step, at the visited household's building."""
    return case_create(
        reporter=actor,
        category=category,
        description=description or visit.finding,
        source=CaseSource.VISIT,
        building=visit.household.building,
        visit=visit,
        photos=photos,
    )
