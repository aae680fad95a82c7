"""`linli ties rebuild [--community CODE] [--days N]`.

Recomputes the co-participation network and stores the snapshots that the ties page and
`/api/v1/ties` read: every street by default, or one community.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.grids.models import GridLevel, GridUnit
from linli.participation.ties.services import WINDOW_DAYS, ties_rebuild


class Command(BaseCommand):
    help = "Rebuild the co-participation network (ties between residents)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument("--community", help="code of one community (default: every street)")
        parser.add_argument("--days", type=int, default=WINDOW_DAYS, help="lookback in days")

    def handle(self, *args, action: str, community: str | None, days: int, **options):
        if community:
            units = list(GridUnit.objects.filter(code=community, level=GridLevel.COMMUNITY))
            if not units:
                raise CommandError(f"没有此社区 / no community with code {community!r}")
        else:
            units = list(GridUnit.objects.filter(level=GridLevel.STREET))
        for unit in units:
            try:
                snapshots = ties_rebuild(unit=unit, window_days=days)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            isolated = sum(s.isolated_vulnerable for s in snapshots if s.level == "micro_grid")
            self.stdout.write(
                f"{unit.code}: {len(snapshots)} units, {isolated} vulnerable residents without ties"
            )
