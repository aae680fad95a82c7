"""`linli retention run [--dry-run]`: anonymise what is past its retention period, and say
what was (or, with --dry-run, would be) anonymised, rule by rule."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from linli import clock
from linli.privacy.retention import retention_run


class Command(BaseCommand):
    help = "Anonymise what is past its retention period (see README, Retention)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run"], help="run: apply the retention rules")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only count what each rule would anonymise; change nothing",
        )

    def handle(self, *args, action: str, dry_run: bool, **options):
        if action != "run":  # pragma: no cover - argparse refuses anything else
            raise CommandError(action)
        translation.activate(translation.get_language() or "zh-hans")
        outcomes = retention_run(dry_run=dry_run)
        heading = (
            _("Retention dry run: nothing was changed. What each rule would anonymise now:")
            if dry_run
            else _("Retention run: what each rule anonymised:")
        )
        self.stdout.write(heading)
        for outcome in outcomes:
            if outcome.cutoff is None:
                line = _("%(rule)s: off (%(setting)s is 0)") % {
                    "rule": outcome.rule.title,
                    "setting": outcome.rule.setting,
                }
            else:
                line = _("%(rule)s: %(count)d, everything before %(cutoff)s") % {
                    "rule": outcome.rule.title,
                    "count": outcome.count,
                    "cutoff": clock.localtime(outcome.cutoff).strftime("%Y-%m-%d %H:%M"),
                }
            self.stdout.write(f"  {line}")
        total = sum(outcome.count for outcome in outcomes)
        self.stdout.write(
            (
                _("Would anonymise %(count)d in all.")
                if dry_run
                else _("Anonymised %(count)d in all.")
            )
            % {"count": total}
        )
