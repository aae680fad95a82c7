"""The demo's resilience snapshots: the case-study street's last eight weeks, computed from
the demo's own records by the real snapshot service, so the dashboard, its trend and the map
have something to show on first login. Written once."""

from __future__ import annotations

from datetime import timedelta

from linli import clock
from linli.grids.models import GridUnit
from linli.resilience.models import IndexSnapshot
from linli.resilience.services import snapshot_take

WEEKS = 8


def demo_resilience(*, street: GridUnit) -> bool:
    """Returns whether anything was added."""
    if IndexSnapshot.objects.filter(grid_unit=street).exists():
        return False
    now = clock.now()
    for back in range(WEEKS - 1, -1, -1):
        snapshot_take(root=street, end=now - timedelta(weeks=back))
    return True
