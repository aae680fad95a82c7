"""The retention rules: what is anonymised once it is past its retention period, and the run
that applies them (`linli retention run`, and the nightly job `privacy.retention_run`).

Each rule names the rows past their period and erases their personal part in place; counts,
dates, categories and states stay, so every indicator and report still adds up, and the audit
trail stays whole (each erasure adds an entry, action "anonymise"). A period of 0 turns its
rule off. Defaults (settings.py, README "Retention"):

- residents who moved out, LINLI_RETENTION_DEPARTED_DAYS (180) after the move;
- who reported a closed case (login, resident, the Open311 client's name, e-mail, phone,
  device), LINLI_RETENTION_CASE_REPORTER_YEARS (3) after closing;
- what a visit found (the free text), LINLI_RETENTION_VISIT_FINDING_YEARS (3) after the visit;
- what an emergency help request said, LINLI_RETENTION_HELP_REQUEST_YEARS (3) after the
  emergency was stood down.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from linli import clock
from linli.accounts.models import AuditAction, AuditEntry
from linli.cases.models import Case
from linli.emergency.models import HelpRequest
from linli.grids.models import Resident, Visit
from linli.open311.models import Open311Submission
from linli.privacy.services import _erase

# Rows are erased this many at a time, each batch in its own transaction: a first run over
# years of data neither holds locks for minutes nor loses all its work to one failure.
BATCH_SIZE = 500


@dataclass(frozen=True)
class Rule:
    name: str
    title: object  # a lazy translation
    setting: str
    unit: str  # "days" or "years"
    due: Callable[[datetime], QuerySet]
    erase: Callable[[list[int], datetime], int]
    object_type: str

    @property
    def period(self) -> int:
        return int(getattr(settings, self.setting))

    def cutoff(self, now: datetime) -> datetime | None:
        if self.period <= 0:
            return None
        if self.unit == "days":
            return now - timedelta(days=self.period)
        # Calendar years, in the site's zone: three years before 15 March is 15 March (and
        # before 29 February, 28 February).
        local = clock.localtime(now)
        year = local.year - self.period
        try:
            return local.replace(year=year)
        except ValueError:
            return local.replace(year=year, day=28)


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    cutoff: datetime | None
    count: int


# Departed residents -----------------------------------------------------------------------


def _departed_due(cutoff: datetime) -> QuerySet:
    return Resident.objects.filter(
        moved_out_on__isnull=False,
        moved_out_on__lte=clock.localtime(cutoff).date(),
        anonymised_at__isnull=True,
    )


def _departed_erase(ids: list[int], now: datetime) -> int:
    residents = list(Resident.objects.select_for_update().filter(pk__in=ids, anonymised_at=None))
    for resident in residents:
        _erase(resident, now=now, actor=None)
    return len(residents)


# Reporters of closed cases ----------------------------------------------------------------

_SUBMISSION_PERSONAL = ("first_name", "last_name", "email", "phone", "device_id", "account_id")


def _submission_has_personal() -> Q:
    condition = Q()
    for field in _SUBMISSION_PERSONAL:
        condition |= ~Q(**{f"open311_submission__{field}": ""})
    return Q(open311_submission__isnull=False) & condition


def _reporters_due(cutoff: datetime) -> QuerySet:
    return Case.objects.filter(closed_at__isnull=False, closed_at__lte=cutoff).filter(
        Q(reporter__isnull=False) | Q(reporter_resident__isnull=False) | _submission_has_personal()
    )


def _reporters_erase(ids: list[int], now: datetime) -> int:
    count = Case.objects.filter(pk__in=ids).update(reporter=None, reporter_resident=None)
    Open311Submission.objects.filter(case_id__in=ids).update(
        **dict.fromkeys(_SUBMISSION_PERSONAL, "")
    )
    return count


# Visit findings ---------------------------------------------------------------------------


def _findings_due(cutoff: datetime) -> QuerySet:
    return Visit.objects.filter(visited_at__lte=cutoff).exclude(finding="")


def _findings_erase(ids: list[int], now: datetime) -> int:
    return Visit.objects.filter(pk__in=ids).update(finding="")


# Help requests ----------------------------------------------------------------------------


def _help_due(cutoff: datetime) -> QuerySet:
    return HelpRequest.objects.filter(
        activation__stood_down_at__isnull=False, activation__stood_down_at__lte=cutoff
    ).exclude(description="")


def _help_erase(ids: list[int], now: datetime) -> int:
    return HelpRequest.objects.filter(pk__in=ids).update(description="")


RULES: tuple[Rule, ...] = (
    Rule(
        name="departed_residents",
        title=_("Residents who moved out"),
        setting="LINLI_RETENTION_DEPARTED_DAYS",
        unit="days",
        due=_departed_due,
        erase=_departed_erase,
        object_type="resident",
    ),
    Rule(
        name="closed_case_reporters",
        title=_("Who reported closed cases"),
        setting="LINLI_RETENTION_CASE_REPORTER_YEARS",
        unit="years",
        due=_reporters_due,
        erase=_reporters_erase,
        object_type="case",
    ),
    Rule(
        name="visit_findings",
        title=_("What visits found (notes)"),
        setting="LINLI_RETENTION_VISIT_FINDING_YEARS",
        unit="years",
        due=_findings_due,
        erase=_findings_erase,
        object_type="visit",
    ),
    Rule(
        name="help_request_details",
        title=_("What emergency help requests said"),
        setting="LINLI_RETENTION_HELP_REQUEST_YEARS",
        unit="years",
        due=_help_due,
        erase=_help_erase,
        object_type="help_request",
    ),
)


def retention_run(*, dry_run: bool, now: datetime | None = None) -> list[Outcome]:
    """Apply every rule (or, with dry_run, only count what each would anonymise).

    One audit entry per anonymised row, with the rule as its reason and no personal data, in
    the same transaction as the erasure."""
    now = now or clock.now()
    outcomes = []
    for rule in RULES:
        cutoff = rule.cutoff(now)
        if cutoff is None:
            outcomes.append(Outcome(rule=rule, cutoff=None, count=0))
            continue
        if dry_run:
            outcomes.append(Outcome(rule=rule, cutoff=cutoff, count=rule.due(cutoff).count()))
            continue
        total = 0
        while True:
            with transaction.atomic():
                # Each row's grid path comes with its id: the audit entry is filed there.
                paths = dict(
                    rule.due(cutoff).order_by("pk").values_list("pk", "grid_path")[:BATCH_SIZE]
                )
                ids = list(paths)
                if not ids:
                    break
                erased = rule.erase(ids, now)
                reason = str(_reason(rule))
                AuditEntry.objects.bulk_create(
                    [
                        AuditEntry(
                            actor=None,
                            action=AuditAction.ANONYMISE,
                            object_type=rule.object_type,
                            object_id=str(pk),
                            object_label=f"#{pk}",
                            reason=reason,
                            grid_path=paths.get(pk, ""),
                        )
                        for pk in ids
                    ]
                )
                total += erased
        outcomes.append(Outcome(rule=rule, cutoff=cutoff, count=total))
    return outcomes


def _reason(rule: Rule) -> str:
    # Stored in the site's language: the audit log's readers share it.
    with translation.override(settings.LANGUAGE_CODE):
        if rule.unit == "days":
            period = ngettext("%(count)d day", "%(count)d days", rule.period) % {
                "count": rule.period
            }
        else:
            period = ngettext("%(count)d year", "%(count)d years", rule.period) % {
                "count": rule.period
            }
        return gettext("Retention rule: %(rule)s, kept %(period)s") % {
            "rule": rule.title,
            "period": period,
        }
