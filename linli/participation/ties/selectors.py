"""What the ties page and the API show: the stored snapshots and people to visit, read
only (ties.services rebuilds them)."""

from django.db.models import QuerySet

from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.models import GridUnit
from linli.grids.selectors import scope_for
from linli.participation.ties.models import IsolatedResident, TieSnapshot


def _paths(user: User | None) -> list[str]:
    # Who is isolated is read off vulnerability tags, so the whole feature sits behind
    # VIEW_SENSITIVE: micro-grid leads, building-group leaders (their group) and above.
    return scope_for(user).paths_for(Permission.VIEW_SENSITIVE)


def may_view_ties(user: User | None) -> bool:
    return bool(_paths(user))


def snapshots_visible(*, user: User | None) -> QuerySet[TieSnapshot]:
    return TieSnapshot.objects.current().within(_paths(user)).select_related("unit")


def snapshot_for_unit(*, user: User | None, unit_id: int) -> TieSnapshot | None:
    return snapshots_visible(user=user).filter(unit_id=unit_id).first()


def isolated_visible(*, user: User | None, path: str | None = None) -> QuerySet[IsolatedResident]:
    rows = IsolatedResident.objects.current().within(_paths(user))
    if path:
        rows = rows.within([path])
    return rows.select_related("resident__household__building").order_by("grid_path", "resident_id")


def tie_unit_get(*, user: User | None, unit_id: int) -> GridUnit:
    """A grid unit inside the user's VIEW_SENSITIVE subtrees; 404 otherwise."""
    return get_visible_or_404(GridUnit.objects.within(_paths(user)), unit_id)
