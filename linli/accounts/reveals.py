"""Reveals of full phone and ID numbers: why (a purpose from a short list plus words), how
many a person may see in a day, and when their secretary hears of it.

Every reveal in the platform (a resident's numbers in the registry, an emergency task
target's phone) goes through `reveal_audit`, inside the revealing service's transaction:

- the purpose is one of `RevealPurpose` and the reason says in words what for
  (`REASON_MIN_LENGTH` characters, `OTHER_REASON_MIN_LENGTH` for "other", at most
  `REASON_MAX_LENGTH`); a reason such as "x" is refused;
- a person sees at most `LINLI_REVEAL_DAILY_QUOTA` full numbers a day (counted from their
  reveal audit rows since midnight in Asia/Shanghai). The count is taken under a lock on the
  person's user row, so two reveals at once cannot both be the last one allowed;
- the audit row carries the purpose code in `reason_code` and the words in `reason`.

It returns how many numbers the person has now seen today, so that the caller (which knows
the grid) can tell the secretary once `reveal_alert_due` says the count is unusual
(linli.grids.services.reveal_volume_alert). accounts is the bottom layer: it knows users and
the audit log, not grids.
"""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from linli import clock
from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.services import audit_record

logger = logging.getLogger(__name__)

REASON_MIN_LENGTH = 4
OTHER_REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = AuditEntry._meta.get_field("reason").max_length  # 300

# The code a refusal over the daily quota carries; the API answers it with 429.
QUOTA_EXCEEDED = "reveal_quota"


class RevealPurpose(models.TextChoices):
    """Why a full number is needed (GB/T 35273 §7: use for a stated purpose only)."""

    VISIT_CONTACT = "visit_contact", pgettext_lazy("reveal purpose", "Contact for a home visit")
    EMERGENCY_CONTACT = "emergency_contact", pgettext_lazy("reveal purpose", "Emergency contact")
    VERIFY_IDENTITY = (
        "verify_identity",
        pgettext_lazy("reveal purpose", "Verify identity for a service"),
    )
    CORRECT_RECORD = "correct_record", pgettext_lazy("reveal purpose", "Correct the record")
    OTHER = "other", pgettext_lazy("reveal purpose", "Other (say what for)")


# For the API documents (English, like the rest of the schema's descriptions).
PURPOSE_DESCRIPTION = (
    "Why the full number is needed: visit_contact (上门走访联系, contact for a home visit), "
    "emergency_contact (紧急联络), verify_identity (核实身份办理业务, verify identity for a "
    "service), correct_record (数据更正, correct the record) or other (其他: say what for)."
)
REASON_DESCRIPTION = (
    "What for, in words: at least 4 characters (10 when the purpose is other), at most 300. "
    "Stored in the audit log."
)


def reason_min_length(purpose: str) -> int:
    return OTHER_REASON_MIN_LENGTH if purpose == RevealPurpose.OTHER else REASON_MIN_LENGTH


def purpose_label(code: str) -> str:
    """The purpose's words for an audit row's `reason_code` ("" for rows without one)."""
    return str(RevealPurpose(code).label) if code in RevealPurpose.values else ""


def reveal_reason_clean(*, purpose: str, reason: str) -> tuple[str, str]:
    """The purpose code and the stripped reason, or ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    purpose = (purpose or "").strip()
    reason = (reason or "").strip()
    if purpose not in RevealPurpose.values:
        errors["purpose"] = _("Choose what the full number is for.")
    minimum = reason_min_length(purpose)
    if not reason:
        errors["reason"] = _("Say why you need the full number.")
    elif len(reason) < minimum:
        errors["reason"] = _("Say in at least %(min)d characters why you need the full number.") % {
            "min": minimum
        }
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = _("Keep the reason to %(max)d characters.") % {"max": REASON_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)
    return purpose, reason


def day_start(day=None) -> datetime:
    """Midnight at the start of `day` (default today) in the site's zone, aware."""
    day = day or clock.localdate()
    return timezone.make_aware(datetime.combine(day, time.min))


def quota_resets_at() -> datetime:
    """When today's count starts again: the next midnight in Asia/Shanghai."""
    return day_start(clock.localdate() + timedelta(days=1))


def reveals_today(*, actor: User) -> int:
    return AuditEntry.objects.filter(
        actor=actor, action=AuditAction.REVEAL, created_at__gte=day_start()
    ).count()


class RevealQuotaExceeded(ValidationError):
    """Over the daily quota: nothing was shown. `resets_at` is the next local midnight."""

    def __init__(self, *, quota: int, resets_at: datetime):
        self.quota = quota
        self.resets_at = resets_at
        message = _(
            "You have seen %(quota)d full numbers today, the daily limit; nothing was shown. "
            "The limit resets at %(time)s."
        ) % {
            "quota": quota,
            "time": timezone.localtime(resets_at).strftime("%Y-%m-%d %H:%M"),
        }
        super().__init__(message, code=QUOTA_EXCEEDED)

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.resets_at - clock.now()).total_seconds()))


def reveal_quota_claim(*, actor: User, enforce: bool = True) -> int:
    """Check the daily quota for one more reveal and return which reveal of the day it is.

    Runs inside the caller's transaction: the lock on the user's row holds until it commits
    (with the audit row), so a second reveal by the same person waits and then counts the
    first. SQLite takes its write lock at the start of the transaction (IMMEDIATE), which
    serialises the same way."""
    User.objects.select_for_update().filter(pk=actor.pk).values_list("pk", flat=True).first()
    count = reveals_today(actor=actor)
    quota = settings.LINLI_REVEAL_DAILY_QUOTA
    if enforce and count >= quota:
        logger.warning(
            "reveal refused: user %s is over the daily quota (%d of %d)", actor.pk, count, quota
        )
        raise RevealQuotaExceeded(quota=quota, resets_at=quota_resets_at())
    return count + 1


def reveal_alert_due(count: int) -> bool:
    """Whether a person's `count` reveals today are unusual enough to tell their secretary."""
    return count >= settings.LINLI_REVEAL_ALERT_AT


def reveal_audit(
    *,
    actor: User,
    purpose: str,
    reason: str,
    object_type: str,
    object_id,
    object_label: str = "",
    field: str,
    grid_path: str,
    ip_address: str | None = None,
    reason_prefix: str = "",
    within_quota: bool = True,
) -> int:
    """Check the purpose, the reason and the quota, and write the reveal's audit row.

    `within_quota=False` counts the reveal (and so the alert to the secretary) without
    refusing it over the quota: for a volunteer calling the people of an emergency task they
    hold, whose reach is bounded by their tasks and who must not be cut off mid-typhoon.

    Call it inside the revealing service's transaction, after its permission check and before
    the value leaves; it raises ValidationError (fields `purpose`, `reason`) or
    RevealQuotaExceeded and then writes nothing. `reason_prefix` (e.g. the emergency task)
    is stored before the reason's words. Returns how many full numbers the actor has seen
    today, this one included."""
    purpose, reason = reveal_reason_clean(purpose=purpose, reason=reason)
    count = reveal_quota_claim(actor=actor, enforce=within_quota)
    audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        field=field,
        reason=reason_prefix + reason,
        reason_code=purpose,
        grid_path=grid_path,
        ip_address=ip_address,
    )
    return count


__all__ = [
    "OTHER_REASON_MIN_LENGTH",
    "PURPOSE_DESCRIPTION",
    "QUOTA_EXCEEDED",
    "REASON_DESCRIPTION",
    "REASON_MAX_LENGTH",
    "REASON_MIN_LENGTH",
    "RevealPurpose",
    "RevealQuotaExceeded",
    "purpose_label",
    "quota_resets_at",
    "reveal_alert_due",
    "reveal_audit",
    "reveal_quota_claim",
    "reveal_reason_clean",
    "reveals_today",
]
