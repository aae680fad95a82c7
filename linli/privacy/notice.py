"""The privacy notice: what Linli holds, why, who sees it, how long, and the resident's
rights (PIPL Art. 13, 17). Every person accepts the current version
(LINLI_PRIVACY_NOTICE_VERSION) before using Linli, and again when it changes; each
acceptance is recorded with its moment and address, and audited.

The text of a version is the template `privacy/notice/<version>.html`: a published version
is never edited, a new one is added beside it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.grids.models import ResidentAccount, RoleAssignment
from linli.privacy.models import PrivacyNoticeAcceptance

# The version a session has been checked against: one query per session, not per request.
SESSION_KEY = "linli_privacy_notice_version"


def current_version() -> str:
    return settings.LINLI_PRIVACY_NOTICE_VERSION


def required() -> bool:
    return settings.LINLI_PRIVACY_NOTICE_REQUIRED


def template_name(version: str | None = None) -> str:
    return f"privacy/notice/{version or current_version()}.html"


def has_accepted(*, user: User, version: str | None = None) -> bool:
    return PrivacyNoticeAcceptance.objects.filter(
        user=user, version=version or current_version()
    ).exists()


def retention_periods() -> dict[str, int]:
    """The retention settings the notice states, by name (0: kept until deleted)."""
    return {
        "departed_days": settings.LINLI_RETENTION_DEPARTED_DAYS,
        "case_reporter_years": settings.LINLI_RETENTION_CASE_REPORTER_YEARS,
        "visit_finding_years": settings.LINLI_RETENTION_VISIT_FINDING_YEARS,
        "help_request_years": settings.LINLI_RETENTION_HELP_REQUEST_YEARS,
    }


def notice_context() -> dict:
    return {"version": current_version(), "retention": retention_periods()}


def notice_exists(version: str | None = None) -> bool:
    try:
        get_template(template_name(version))
    except TemplateDoesNotExist:
        return False
    return True


def _home_path(user: User) -> str:
    """Where the acceptance is read in the audit log: the person's household, else the
    widest unit they hold a post on."""
    account = ResidentAccount.objects.filter(user=user).select_related("resident").first()
    if account is not None:
        return account.resident.grid_path
    paths = RoleAssignment.objects.filter(user=user).values_list("grid_path", flat=True)
    return min(paths, key=len, default="")


def privacy_notice_accept(
    *, user: User, version: str | None = None, ip_address: str | None = None
) -> PrivacyNoticeAcceptance:
    """Record that `user` accepted the notice `version` (the current one by default); audited.
    Accepting a version already accepted returns the first acceptance and writes nothing."""
    version = version or current_version()
    if version != current_version():
        raise ValidationError(
            {
                "version": _("Accept the current privacy notice, version %(version)s.")
                % {"version": current_version()}
            }
        )
    existing = PrivacyNoticeAcceptance.objects.filter(user=user, version=version).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            acceptance = PrivacyNoticeAcceptance.objects.create(
                user=user, version=version, accepted_at=clock.now(), ip_address=ip_address
            )
            audit_record(
                actor=user,
                action=AuditAction.CONSENT,
                object_type="privacy_notice",
                object_id=version,
                # The actor is the person: the label is the version they agreed to.
                object_label=version,
                grid_path=_home_path(user),
                ip_address=ip_address,
            )
    except IntegrityError:
        # Two tabs accepted at once: the other one's acceptance (and audit entry) stands.
        return PrivacyNoticeAcceptance.objects.get(user=user, version=version)
    return acceptance
