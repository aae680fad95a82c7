"""Messages in by SMS or WeChat: received (matched to the registry by the sender), then
turned by staff into a case or a help request in one step, or dismissed with a reason.

Receiving is idempotent (a gateway that resends a message stores it once) and never tells
the sender anything about the registry. An SMS of only "TD" (the usual Chinese reply to stop
messages) turns SMS off for the people with that phone instead of becoming a message."""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.cases.services.filing import case_create
from linli.emergency.models import HelpRequest
from linli.emergency.services.help_requests import active_activation_for, help_request_create
from linli.errors import Conflict, Invalid, NotAllowed
from linli.grids.models import Building, GridLevel, GridUnit, Resident, RoleAssignment
from linli.grids.selectors import scope_for
from linli.inbound.models import InboundChannel, InboundMessage, InboundState
from linli.notify.models import Channel, NotificationPreference
from linli.notify.services import message_send_to_address, notification_send
from linli.wechat.models import WeChatAccount

# Replies that mean "stop sending me SMS" (退订), upper-cased.
STOP_WORDS = frozenset({"TD", "T", "退订", "N"})
TEXT_MAX_LENGTH = 2000
# Whose posts see a message nobody matched: a post this high covers a whole community.
UNMATCHED_LEVELS = (GridLevel.STREET, GridLevel.BLOCK, GridLevel.COMMUNITY)


def _normalise_phone(raw: str) -> str:
    phone = "".join(character for character in raw if character.isdigit())
    if phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    return phone


def sender_match(*, channel: str, sender: str) -> tuple[Resident | None, User | None]:
    """The resident and login a sender is: by the phone on a login or in the registry
    (exactly one living resident), or by a WeChat binding. (None, None) when unsure."""
    user = None
    if channel == InboundChannel.SMS:
        users = list(User.objects.filter(phone=sender, is_active=True)[:2])
        user = users[0] if len(users) == 1 else None
    else:
        account = WeChatAccount.objects.filter(openid=sender).select_related("user").first()
        user = account.user if account and account.user.is_active else None
    resident = None
    if user is not None:
        account = getattr(user, "resident_account", None)
        resident = account.resident if account is not None else None
    if resident is None and channel == InboundChannel.SMS:
        residents = list(
            Resident.objects.filter(
                phone=sender, moved_out_on__isnull=True, anonymised_at__isnull=True
            )[:2]
        )
        resident = residents[0] if len(residents) == 1 else None
    return resident, user


def _staff_to_tell(grid_path: str) -> list[User]:
    """Who files cases where the sender lives: the posts over the path that may file; for an
    unmatched sender, the street's (the posts at the top of the tree)."""
    if grid_path:
        paths = path_ancestors(grid_path)
        assignments = RoleAssignment.objects.filter(grid_path__in=paths)
    else:
        streets = GridUnit.objects.filter(level=GridLevel.STREET).values_list("path", flat=True)
        assignments = RoleAssignment.objects.filter(grid_path__in=list(streets))
    users = User.objects.filter(pk__in=assignments.values("user"), is_active=True).distinct()
    return [
        user
        for user in users
        if scope_for(user).allows(Permission.CASE_FILE, grid_path or "/")
        or (not grid_path and scope_for(user).allows_anywhere(Permission.CASE_FILE))
    ]


@transaction.atomic
def inbound_receive(
    *, channel: str, external_id: str, sender: str, text: str, received_at: datetime | None = None
) -> InboundMessage | None:
    """Store a message sent in; None for a stop reply (SMS turned off instead). Idempotent on
    (channel, external_id)."""
    errors = {}
    if channel not in InboundChannel.values:
        errors["channel"] = _("Unknown channel.")
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 100:
        errors["id"] = _("Give the message's id (at most 100 characters).")
    sender = (sender or "").strip()
    if channel == InboundChannel.SMS:
        sender = _normalise_phone(sender)
    if not sender or len(sender) > 100:
        errors["from"] = _("Give the sender.")
    text = (text or "").strip()
    if not text:
        errors["text"] = _("The message is empty.")
    if errors:
        raise Invalid(next(iter(errors.values())), field=next(iter(errors)))
    existing = InboundMessage.objects.filter(channel=channel, external_id=external_id).first()
    if existing is not None:
        return existing
    if channel == InboundChannel.SMS and text.upper() in STOP_WORDS:
        for person in User.objects.filter(phone=sender):
            preference, _created = NotificationPreference.objects.get_or_create(user=person)
            preference.sms = False
            preference.save(update_fields=["sms", "updated_at"])
        return None
    resident, user = sender_match(channel=channel, sender=sender)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                channel=channel,
                external_id=external_id,
                sender=sender,
                text=text[:TEXT_MAX_LENGTH],
                received_at=received_at or clock.now(),
                resident=resident,
                user=user,
                grid_path=resident.grid_path if resident else "",
            )
    except IntegrityError:
        # The same message pushed twice at once: the other request stored it.
        return InboundMessage.objects.get(channel=channel, external_id=external_id)
    notification_send(
        recipients=_staff_to_tell(message.grid_path),
        kind="inbound_message",
        title=gettext_noop("A resident sent a message by %(channel)s"),
        title_params={"channel": str(InboundChannel(channel).label)},
        link=f"/inbound/{message.pk}/",
        channels=None,
    )
    return message


def may_handle(user: User, message: InboundMessage) -> bool:
    """Staff who may file a case where the sender lives; for an unmatched sender, staff who
    may file cases anywhere at community level or above."""
    scope = scope_for(user)
    if message.grid_path:
        return scope.allows(Permission.CASE_FILE, message.grid_path)
    return (
        scope.unrestricted
        or GridUnit.objects.filter(
            path__in=scope.paths_for(Permission.CASE_FILE), level__in=UNMATCHED_LEVELS
        ).exists()
    )


def _locked(message: InboundMessage, actor: User) -> InboundMessage:
    if not may_handle(actor, message):
        raise NotAllowed(_("You may not handle this message."))
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.state != InboundState.NEW:
        raise Conflict(_("This message was handled already."), field="state")
    return message


def _handled(message: InboundMessage, actor: User, state: str, action: str, **values) -> None:
    message.state = state
    message.handled_by = actor
    message.handled_at = clock.now()
    for name, value in values.items():
        setattr(message, name, value)
    message.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="inbound_message",
        object_id=message.pk,
        object_label=message.sender_masked,
        field="state",
        changes={"state": [InboundState.NEW.value, state]},
        reason=action,
        grid_path=message.grid_path,
    )


@transaction.atomic
def inbound_file_case(
    *,
    actor: User,
    message: InboundMessage,
    category: CaseCategory | None,
    building: Building | None,
    description: str,
) -> Case:
    """File the message as a case in the resident's name. A sender with a login is the
    case's reporter (it is in their list, and they hear of each step as any reporter); one
    without is its resident, and gets an SMS saying it was recorded, with its reference."""
    message = _locked(message, actor)
    building = building or (message.resident.household.building if message.resident else None)
    source = CaseSource.SMS if message.channel == InboundChannel.SMS else CaseSource.WECHAT
    text = description or message.text

    def file(reporter: User) -> Case:
        return case_create(
            reporter=reporter, category=category, description=text, source=source, building=building
        )

    case = None
    if message.user is not None:
        # In the sender's own name where a resident may file (their own community).
        try:
            with transaction.atomic():
                case = file(message.user)
        except NotAllowed:
            case = None
    reporter = case.reporter if case is not None else actor
    if case is None:
        case = file(actor)
    if message.resident is not None and case.reporter_resident_id is None:
        Case.objects.filter(pk=case.pk).update(reporter_resident=message.resident)
        case.reporter_resident = message.resident
    _handled(message, actor, InboundState.CASE_FILED, "case", case=case)
    if reporter == actor and message.channel == InboundChannel.SMS:
        message_send_to_address(
            channel=Channel.SMS,
            address=message.sender,
            kind="inbound_recorded",
            title=_site_language_text(
                gettext_noop(
                    "Linli: your message was recorded as case %(reference)s. The community "
                    "office will handle it."
                ),
                reference=case.reference,
            ),
        )
    return case


def _site_language_text(template: str, **params) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(template) % params


@transaction.atomic
def inbound_file_help(
    *, actor: User, message: InboundMessage, kind: str, urgency: int | str | None, description: str
) -> HelpRequest:
    """File the message as a help request for the sender's household, in a live emergency."""
    message = _locked(message, actor)
    if message.resident is None:
        raise Invalid(
            _("Match the sender to a resident first: a help request is for a household."),
            field="resident",
        )
    if active_activation_for(message.resident.grid_path) is None:
        raise Conflict(_("No emergency is live here: file a case instead."), field="kind")
    help_request = help_request_create(
        actor=actor,
        household=message.resident.household,
        kind=kind,
        urgency=urgency,
        description=description or message.text,
        on_behalf=True,
    )
    _handled(message, actor, InboundState.HELP_FILED, "help", help_request=help_request)
    return help_request


@transaction.atomic
def inbound_dismiss(*, actor: User, message: InboundMessage, reason: str) -> InboundMessage:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say why the message is dismissed."), field="reason")
    message = _locked(message, actor)
    _handled(message, actor, InboundState.DISMISSED, "dismiss", dismiss_reason=reason[:300])
    return message
