"""Writes for invitations: a batch created (letters or SMS), a batch reissued, an invitation
used by the person who registered with it.

The plain token exists only in the answer of the service that made it (`IssuedInvitation`):
the letters are drawn from it in the same request, the SMS text carries it; the table keeps
its SHA-256. Reissuing a batch therefore makes new tokens and revokes the batch's old ones.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import within
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.errors import INVALID, Invalid, NotVisible
from linli.grids.models import Household, Resident, VulnerabilityTag
from linli.invitations.letters import Letter, date_words, letters_pdf
from linli.invitations.models import (
    DAYS_MAX,
    DAYS_MIN,
    Invitation,
    InvitationBatch,
    InvitationChannel,
    token_hash,
)
from linli.invitations.selectors import (
    TOKEN_PATTERN,
    HouseholdSelection,
    current_residents,
    households_with_login,
    invitation_targets,
    invite_paths,
    natural_key,
    registered_phone,
)
from linli.notify.models import Channel
from linli.notify.services import AddressMessage, messages_send_to_addresses

# One request draws every letter or queues every SMS (the tokens exist only then), within
# `linli serve`'s 60 s: 1,000 letters took 19 s, 6,000 SMS 13-34 s (bench/README.md).
# A micro-grid of a few hundred households is the usual batch.
LETTERS_MAX = 1000
SMS_MAX = 6000
TOKEN_BYTES = 24  # 32 URL-safe characters
SMS_KIND = "invitation"
# The SMS, in the site's language: short, no name, no address, no health word.
SMS_TEXT = gettext_noop(
    "Linli: your community invites you to join. Register at %(url)s (valid until %(date)s)."
)


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation just made, with its plain token (never stored)."""

    invitation: Invitation
    token: str
    household: Household
    resident: Resident | None
    url: str

    @property
    def expires_on(self) -> date:
        return expiry_date(self.invitation.expires_at)


@dataclass
class IssueResult:
    batch: InvitationBatch
    issued: list[IssuedInvitation] = field(default_factory=list)
    skipped_registered: int = 0
    no_phone: list[Household] = field(default_factory=list)
    # The letters (one page a household), drawn in the same transaction: letter batches only.
    pdf: bytes | None = None


def invitation_url(token: str) -> str:
    """The address printed in the QR code and sent by SMS."""
    return f"{settings.LINLI_SITE_URL}{reverse('invitations:open', args=[token])}"


def expires_at_for(days: int) -> datetime:
    """Valid through the whole `days`-th local day from today: the letter prints that date."""
    last_day = clock.localdate() + timedelta(days=days)
    return timezone.make_aware(
        datetime.combine(last_day + timedelta(days=1), time.min), timezone.get_default_timezone()
    )


def expiry_date(expires_at: datetime) -> date:
    """The last local day on which an invitation works."""
    return (clock.localtime(expires_at) - timedelta(microseconds=1)).date()


def sms_text(*, url: str, expires_on: date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(SMS_TEXT) % {"url": url, "date": date_words(expires_on)}


def _validate(*, days, channel: str, resident_filter: str) -> None:
    errors = {}
    if not isinstance(days, int) or isinstance(days, bool) or not DAYS_MIN <= days <= DAYS_MAX:
        errors["days"] = _("Give a number of days from %(min)d to %(max)d.") % {
            "min": DAYS_MIN,
            "max": DAYS_MAX,
        }
    if channel not in InvitationChannel.values:
        errors["channel"] = _("Choose a letter or an SMS.")
    if resident_filter and resident_filter not in VulnerabilityTag.values:
        errors["selection"] = _("Unknown group of residents.")
    if errors:
        raise ValidationError(
            {name: ValidationError(message, code=INVALID) for name, message in errors.items()}
        )


def _issue(
    *,
    actor: User,
    batch: InvitationBatch,
    targets: list[tuple[Household, Resident | None]],
) -> IssueResult:
    """Write one invitation per target (SMS: per target with a registered phone; the others
    are listed back) and queue the SMS. Runs inside the caller's transaction."""
    result = IssueResult(batch=batch)
    now = clock.now()
    expires_at = expires_at_for(batch.days)
    pending: list[tuple[Invitation, str, Household, Resident | None]] = []
    for household, resident in targets:
        phone = registered_phone(resident)
        if batch.channel == InvitationChannel.SMS and not phone:
            result.no_phone.append(household)
            continue
        token = secrets.token_urlsafe(TOKEN_BYTES)
        invitation = Invitation(
            batch=batch,
            household=household,
            resident=resident,
            grid_path=household.grid_path,
            token_hash=token_hash(token),
            channel=batch.channel,
            phone=phone if batch.channel == InvitationChannel.SMS else "",
            expires_at=expires_at,
            created_by=actor,
            created_at=now,
        )
        pending.append((invitation, token, household, resident))
    Invitation.objects.bulk_create([row[0] for row in pending], batch_size=1000)
    result.issued = [
        IssuedInvitation(
            invitation=invitation,
            token=token,
            household=household,
            resident=res,
            url=invitation_url(token),
        )
        for invitation, token, household, res in pending
    ]
    if batch.channel == InvitationChannel.SMS:
        messages_send_to_addresses(
            channel=Channel.SMS,
            kind=SMS_KIND,
            messages=[
                AddressMessage(
                    address=issued.invitation.phone,
                    title=sms_text(url=issued.url, expires_on=issued.expires_on),
                )
                for issued in result.issued
            ],
        )
    batch.count = len(result.issued)
    batch.no_phone_households.set([household.pk for household in result.no_phone])
    if batch.channel == InvitationChannel.LETTER:
        result.pdf = letters_pdf([_letter(batch, issued) for issued in result.issued])
    return result


def _letter(batch: InvitationBatch, issued: IssuedInvitation) -> Letter:
    resident = issued.resident
    named = batch.print_names and resident is not None and resident.anonymised_at is None
    return Letter(
        url=issued.url,
        building=issued.household.building.name,
        room=issued.household.room,
        name=resident.name if named and resident is not None else "",
        expires_on=issued.expires_on,
    )


def _check_size(*, channel: str, count: int) -> None:
    limit = LETTERS_MAX if channel == InvitationChannel.LETTER else SMS_MAX
    if count > limit:
        raise Invalid(
            _("%(count)d households is more than one batch holds (%(max)d): pick a smaller area.")
            % {"count": count, "max": limit},
            field="selection",
        )


def _audit(*, actor: User, batch: InvitationBatch, reissued: bool) -> None:
    audit_record(
        actor=actor,
        # Letters put addresses (and names, if asked) on paper: an export of the register.
        action=AuditAction.EXPORT
        if batch.channel == InvitationChannel.LETTER
        else AuditAction.CREATE,
        object_type="invitation_batch",
        object_id=batch.pk,
        object_label=batch.description,
        changes={
            "channel": batch.channel,
            "invitations": batch.count,
            "print_names": batch.print_names,
            "reissued": reissued,
        },
        grid_path=batch.grid_path,
    )


@transaction.atomic
def invitations_create(
    *,
    actor: User,
    households: HouseholdSelection,
    resident_filter: str,
    days: int,
    channel: str,
    print_names: bool = False,
    skip_registered: bool = True,
) -> IssueResult:
    """Invite the selected households (a selection from `household_selection`, limited to
    the actor's scope) by letter or SMS, valid for `days` (1–90), in one batch. Households
    where a resident already has a login are left out unless `skip_registered` is off. An
    SMS goes to the invited resident's registered phone; households without one are
    returned in `no_phone` (print them a letter). Nothing is written when the input is
    wrong or nothing is left to invite."""
    _validate(days=days, channel=channel, resident_filter=resident_filter)
    paths = invite_paths(user=actor)
    if not paths:
        raise NotVisible()
    selected = households.households
    # The selection came from the actor's scope; a household outside it is never invited.
    if selected.exclude(within(paths)).exists():
        raise NotVisible("selection")
    skipped = 0
    if skip_registered:
        registered = households_with_login(selected)
        skipped = selected.filter(pk__in=registered).count()
        selected = selected.exclude(pk__in=registered)
    targets = invitation_targets(user=actor, households=selected, resident_filter=resident_filter)
    if not targets:
        raise Invalid(
            _(
                "No household to invite: every household here already has a login, or none "
                "was found."
            )
            if skipped
            else _("No household to invite was found."),
            field="selection",
        )
    _check_size(channel=channel, count=len(targets))
    now = clock.now()
    batch = InvitationBatch.objects.create(
        created_by=actor,
        created_at=now,
        grid_path=households.grid_path,
        selection=households.kind,
        description=households.description[:200],
        channel=channel,
        days=days,
        print_names=print_names,
        skip_registered=skip_registered,
        skipped_registered=skipped,
        last_printed_at=now,
    )
    result = _issue(actor=actor, batch=batch, targets=targets)
    result.skipped_registered = skipped
    batch.save(update_fields=["count"])
    _audit(actor=actor, batch=batch, reissued=False)
    return result


@transaction.atomic
def invitation_batch_reissue(*, actor: User, batch: InvitationBatch) -> IssueResult:
    """Print (or send) a batch again with new tokens, valid for the batch's days from today;
    the batch's old unused tokens stop working. Households that registered with one of the
    batch's invitations, or (when the batch skips them) that have a login by now, are left
    out, and so is a household the actor may no longer invite."""
    paths = invite_paths(user=actor)
    if not paths:
        raise NotVisible()
    batch = InvitationBatch.objects.select_for_update().get(pk=batch.pk)
    now = clock.now()
    previous = list(batch.invitations.filter(revoked_at__isnull=True).order_by("id"))
    used = {invitation.household_id for invitation in previous if invitation.used_at}
    invited = {invitation.household_id: invitation.resident_id for invitation in previous}
    households = Household.objects.filter(pk__in=set(invited) - used).filter(within(paths))
    skipped = 0
    if batch.skip_registered:
        registered = households_with_login(households)
        skipped = households.filter(pk__in=registered).count()
        households = households.exclude(pk__in=registered)
    # The resident as the register has them now: a corrected phone, a move, an erasure.
    residents = current_residents(Resident.objects.all()).in_bulk(
        [resident_id for resident_id in invited.values() if resident_id]
    )
    ordered = sorted(
        households.select_related("building"),
        key=lambda h: (h.grid_path, natural_key(h.building.name), natural_key(h.room)),
    )
    targets = [(household, residents.get(invited[household.pk])) for household in ordered]
    if not targets:
        raise Invalid(_("Nothing left to reissue: every household registered."), field="batch")
    _check_size(channel=batch.channel, count=len(targets))
    batch.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    result = _issue(actor=actor, batch=batch, targets=targets)
    result.skipped_registered = skipped
    batch.printings += 1
    batch.last_printed_at = now
    batch.skipped_registered = skipped
    batch.save(update_fields=["count", "printings", "last_printed_at", "skipped_registered"])
    _audit(actor=actor, batch=batch, reissued=True)
    return result


@transaction.atomic
def invitation_mark_used(*, token: str, user: User) -> None:
    """Record that `user` registered with the invitation `token` opens. Idempotent for the
    same person; a token that is unknown, revoked, expired or used by someone else is
    refused with one and the same message (Invalid on "invitation"), so the answer tells
    nobody which of these it was."""
    refusal = Invalid(_("This invitation can no longer be used."), field="invitation")
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token) or user is None:
        raise refusal
    invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise refusal
    if invitation.used_at is not None:
        if invitation.used_by_id == user.pk:
            return
        raise refusal
    if not invitation.is_live(clock.now()):
        raise refusal
    Invitation.objects.filter(pk=invitation.pk).update(used_at=clock.now(), used_by=user)
