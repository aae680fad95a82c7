"""`linli plans defaults --unit CODE`.

Seeds the default emergency plans, one per hazard, for a street, block or community (the
street's serve every community in it). Plans the unit already has by name are kept, so
running it twice adds nothing.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.emergency.services.plans import plans_create_defaults
from linli.grids.models import GridUnit


class Command(BaseCommand):
    help = "Add the default emergency plans (one per hazard) to a grid unit."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["defaults"])
        parser.add_argument("--unit", required=True, help="code of a street, block or community")

    def handle(self, *args, action: str, unit: str, **options):
        owner = GridUnit.objects.filter(code=unit).first()
        if owner is None:
            raise CommandError(f"没有此网格 / no grid unit with code {unit!r}")
        try:
            created = plans_create_defaults(owner=owner, actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        for plan in created:
            self.stdout.write(f"{owner.code}: {plan.name}")
        self.stdout.write(f"{owner.code}: {len(created)} plans added")
