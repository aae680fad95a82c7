"""Reads for Open311: the service list, service requests as the public may see them, and the
key list of the people who manage keys.

What a request shows follows the public board (linli.cases.selectors.public_board): only
public categories, no rejected or merged cases, no reporter, no rooms, no description. A
client holding a valid key for the community sees more of that community: the description
and media URL, rejected and merged cases, and every case it filed itself.
"""

from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.accounts.privacy import mask_phone
from linli.accounts.roles import Permission
from linli.cases.models import Case, CaseCategory, CaseEvent, CaseState
from linli.cases.selectors import cases_visible
from linli.errors import NotVisible, get_visible_or_404
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.open311.models import Open311Key, Open311Submission

DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000

S = CaseState
# Every state named, so that a new state cannot slip into either status unnoticed.
STATUS_OF_STATE: dict[str, str] = {
    S.REPORTED: "open",
    S.ACCEPTED: "open",
    S.DISPATCHED: "open",
    S.IN_PROGRESS: "open",
    S.RETURNED: "open",
    S.RESOLVED: "open",
    S.VERIFIED: "open",
    S.CLOSED: "closed",
    S.REJECTED: "closed",
    S.DUPLICATE: "closed",
}
STATUSES = ("open", "closed")
# The public board leaves these out (linli.cases.selectors.public_board).
HIDDEN_FROM_PUBLIC = (S.REJECTED, S.DUPLICATE)


# Services ----------------------------------------------------------------------------------


def services_list() -> list[CaseCategory]:
    """One service per active minor category, in the order staff gave the tree."""
    return list(
        CaseCategory.objects.filter(parent__isnull=False, is_active=True)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )


def service_get(*, service_code: str) -> CaseCategory | None:
    return (
        CaseCategory.objects.filter(code=service_code, parent__isnull=False, is_active=True)
        .select_related("parent")
        .first()
    )


def service_notice(category: CaseCategory) -> str:
    return _("We aim to handle this within %(hours)d hours.") % {"hours": category.sla_hours}


# Jurisdictions -----------------------------------------------------------------------------


def jurisdiction_get(*, code: str) -> GridUnit | None:
    return GridUnit.objects.filter(code=code, level=GridLevel.COMMUNITY).first()


def only_jurisdiction() -> GridUnit | None:
    """The community when there is exactly one, so that jurisdiction_id may be left out."""
    communities = list(GridUnit.objects.filter(level=GridLevel.COMMUNITY)[:2])
    return communities[0] if len(communities) == 1 else None


# Requests ----------------------------------------------------------------------------------


def _readable(*, community: GridUnit, key: Open311Key | None) -> QuerySet[Case]:
    cases = Case.objects.within([community.path])
    if key is not None and key.community_id == community.pk:
        cases = cases.filter(
            Q(category__is_public=True) | Q(open311_submission__key=key)
        ).select_related("open311_submission")
    else:
        cases = cases.filter(category__is_public=True).exclude(state__in=HIDDEN_FROM_PUBLIC)
    return cases.select_related("category", "building", "owner_unit", "duplicate_of")


def _with_last_note(cases: QuerySet[Case]) -> QuerySet[Case]:
    last_note = (
        CaseEvent.objects.filter(case=OuterRef("pk"))
        .exclude(note="")
        .order_by("-created_at", "-id")
        .values("note")[:1]
    )
    return cases.annotate(last_note=Subquery(last_note))


def requests_search(
    *,
    community: GridUnit,
    key: Open311Key | None = None,
    references: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    now: datetime | None = None,
) -> list[Case]:
    """GET requests: newest first, at most 1000. Asking by service_request_id overrides the
    other filters, as the spec says; otherwise the window is at most 90 days, by default
    the last 90."""
    cases = _readable(community=community, key=key)
    if references:
        cases = cases.filter(reference__in=references)
    else:
        if start is None:
            # Without either, the last 90 days; with only the end, the 90 days before it.
            end = end or now or clock.now()
            start = end - DEFAULT_WINDOW
        elif end is None:
            end = start + DEFAULT_WINDOW
        cases = cases.filter(created_at__gte=start, created_at__lte=end)
        if service_codes:
            cases = cases.filter(category__code__in=service_codes)
        if statuses:
            states = [state for state, status in STATUS_OF_STATE.items() if status in statuses]
            cases = cases.filter(state__in=states)
    if key is not None and key.community_id == community.pk:
        cases = _with_last_note(cases)
    return list(cases.order_by("-created_at", "-id")[:MAX_RESULTS])


def request_get(*, reference: str, key: Open311Key | None = None) -> Case | None:
    """One request by its reference, under the same rules as the list of its community."""
    case = Case.objects.filter(reference=reference).only("grid_path").first()
    if case is None:
        return None
    community = community_of(case)
    if community is None:
        return None
    found = requests_search(community=community, key=key, references=[reference])
    return found[0] if found else None


def community_of(case: Case) -> GridUnit | None:
    return (
        GridUnit.objects.filter(level=GridLevel.COMMUNITY)
        .filter(path__in=path_ancestors(case.grid_path))
        .first()
    )


def status_notes(case: Case, *, keyed: bool) -> str:
    """The state in words; a merged case names the case it joined; a keyed client also gets
    the last note of the timeline once the case is finished (staff write it for the
    reporter; the public gets no free text)."""
    notes = str(CaseState(case.state).label)
    if case.state == S.DUPLICATE and case.duplicate_of is not None:
        notes = _("%(state)s: merged into %(reference)s") % {
            "state": notes,
            "reference": case.duplicate_of.reference,
        }
    last_note = getattr(case, "last_note", None)
    if keyed and STATUS_OF_STATE[case.state] == "closed" and last_note:
        notes = f"{notes}: {last_note}"
    return notes


def agency_responsible(case: Case) -> str:
    # The category's usual handler, not the case's handler text, which staff may fill with
    # a person's name.
    handler = case.category.usual_handler
    return f"{case.owner_unit.name} / {handler}" if handler else case.owner_unit.name


# Keys --------------------------------------------------------------------------------------


def keys_visible(*, user: User) -> QuerySet[Open311Key]:
    paths = scope_for(user).paths_for(Permission.OPEN311_KEYS)
    return Open311Key.objects.within(paths).select_related("community", "created_by")


def key_get(*, user: User, key_id: int) -> Open311Key:
    return get_visible_or_404(keys_visible(user=user), key_id)


def key_by_prefix(*, prefix: str) -> Open311Key | None:
    return Open311Key.objects.select_related("community").filter(prefix=prefix).first()


def communities_for_keys(*, user: User) -> list[GridUnit]:
    paths = scope_for(user).paths_for(Permission.OPEN311_KEYS)
    return list(GridUnit.objects.within(paths).filter(level=GridLevel.COMMUNITY).order_by("path"))


# Submitters --------------------------------------------------------------------------------


def mask_email(value: str) -> str:
    if not value or "@" not in value:
        return ""
    local, domain = value.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def submission_for_case(*, user: User, case_id: int) -> dict | None:
    """The Open311 submitter of a case, masked, for staff who may see the case; None when
    the case did not come through Open311. Out of scope: 404."""
    case = cases_visible(user=user).filter(pk=case_id).first()
    if case is None or not scope_for(user).allows(Permission.VIEW_REGISTRY, case.grid_path):
        raise NotVisible()
    submission = Open311Submission.objects.filter(case=case).select_related("key", "case").first()
    if submission is None:
        return None
    return {
        "case": case,
        "key": submission.key,
        "name": " ".join(part for part in (submission.first_name, submission.last_name) if part),
        "phone": mask_phone(submission.phone),
        "email": mask_email(submission.email),
        "device_id": submission.device_id,
        "account_id": submission.account_id,
        "media_url": submission.media_url,
        "created_at": submission.created_at,
    }
