"""Help requests (求助): filed by a resident for their own household, by staff or a checking
volunteer on its behalf, dispatched to a volunteer or a partner unit, and closed."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_at_depth
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.emergency.models import (
    OPEN_HELP_STATES,
    OPEN_TASK_STATES,
    Activation,
    HelpKind,
    HelpRequest,
    HelpState,
    Task,
    Urgency,
)
from linli.emergency.selectors import is_help_handler, own_volunteer
from linli.emergency.services.drafting import LEVEL_DEPTH
from linli.emergency.services.guards import may_command, user_or_none
from linli.emergency.services.help_notices import (
    building_group_leaders,
    help_closed_notify,
    help_dispatched_notify,
)
from linli.emergency.services.notifications import (
    emergency_channels,
    micro_grid_leads,
    post_holders,
)
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridLevel, Household, Post
from linli.grids.selectors import scope_for
from linli.notify.services import notification_send
from linli.partners.models import Partner
from linli.volunteers.models import Volunteer

P = Permission


def active_activation_for(path: str) -> Activation | None:
    """The live emergency covering `path`, the latest when several do."""
    return Activation.objects.active().covering(path).order_by("-activated_at").first()


def _may_file_help(actor: User, household: Household) -> bool:
    scope = scope_for(actor)
    if household.pk in scope.own_household_ids:
        return True
    if scope.allows(P.EMERGENCY_HELP, household.grid_path):
        return True
    # A volunteer files for a household they are checking on.
    volunteer = own_volunteer(user=actor)
    return (
        volunteer is not None
        and Task.objects.filter(
            assignee=volunteer, household=household, state__in=OPEN_TASK_STATES
        ).exists()
    )


@transaction.atomic
def help_request_create(
    *,
    actor: User,
    household: Household,
    kind: str,
    urgency: int | str | None,
    description: str,
    on_behalf: bool = False,
    source_task: Task | None = None,
    now: datetime | None = None,
) -> HelpRequest:
    if not _may_file_help(actor, household) and source_task is None:
        raise NotAllowed(_("You may not ask for help for this household."))
    errors: dict[str, str] = {}
    if kind not in HelpKind.values:
        errors["kind"] = _("Choose the kind of help needed.")
    try:
        level = int(urgency) if urgency is not None else 0
    except (TypeError, ValueError):
        level = 0
    if level not in Urgency.values:
        errors["urgency"] = _("Choose how urgent it is.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Say what is needed.")
    elif len(description) > 1000:
        errors["description"] = _("Keep the description to 1000 characters.")
    activation = (
        source_task.activation if source_task else active_activation_for(household.grid_path)
    )
    if activation is None or not activation.is_active:
        errors["household"] = _(
            "No emergency is active here. For a life-threatening emergency call 120 (ambulance) "
            "or 110 (police); for anything else report a problem."
        )
    # (No live activation is among the errors.)
    if errors or activation is None:
        raise ValidationError(errors)
    request = HelpRequest.objects.create(
        activation=activation,
        household=household,
        grid_path=household.grid_path,
        kind=kind,
        urgency=level,
        description=description,
        submitted_by=user_or_none(actor),
        on_behalf=bool(on_behalf),
        source_task=source_task,
        created_at=now or clock.now(),
    )
    leads = micro_grid_leads(household.grid_path)
    secretaries = post_holders(
        path_at_depth(household.grid_path, LEVEL_DEPTH[GridLevel.COMMUNITY]),
        [Post.PARTY_SECRETARY, Post.COMMITTEE_STAFF],
    )
    notification_send(
        recipients=[*leads, *building_group_leaders(household.grid_path), *secretaries],
        kind="emergency_help",
        title=(
            gettext_noop("LIFE-THREATENING help request: %(kind)s at %(place)s")
            if level == Urgency.LIFE_THREATENING
            else gettext_noop("Help request: %(kind)s at %(place)s")
        ),
        title_params={"kind": str(HelpKind(kind).label), "place": str(household)},
        # The kind may be a health need and the place is an address: neither leaves the site.
        group_title=(
            gettext_noop("A life-threatening help request has come in")
            if level == Urgency.LIFE_THREATENING
            else gettext_noop("A help request has come in")
        ),
        link=reverse("emergency:help_detail", args=[request.pk]),
        channels=emergency_channels(),
    )
    return request


def _locked_help(request: HelpRequest) -> HelpRequest:
    return HelpRequest.objects.select_for_update().select_related("activation").get(pk=request.pk)


@transaction.atomic
def help_request_dispatch(
    *,
    actor: User,
    request: HelpRequest,
    expected_version: int | None,
    volunteer: Volunteer | None = None,
    partner: Partner | None = None,
    now: datetime | None = None,
) -> HelpRequest:
    request = _locked_help(request)
    if not may_command(actor, request.grid_path):
        raise NotAllowed(_("You may not dispatch help requests here."))
    if request.version != expected_version:
        raise Conflict(_("Someone changed this request a moment ago; reload it."), field="request")
    if request.state not in OPEN_HELP_STATES:
        raise Conflict(_("This request is already closed."), field="request")
    if volunteer is None and partner is None:
        raise ValidationError({"volunteer": _("Choose a volunteer or a partner unit.")})
    if volunteer is not None and (
        not volunteer.is_serving or not volunteer.grid_path.startswith(request.activation.grid_path)
    ):
        raise ValidationError(
            {
                "volunteer": _("%(name)s is not a serving volunteer of this scope.")
                % {"name": volunteer.name}
            }
        )
    request.volunteer = volunteer
    request.partner = partner
    request.state = HelpState.DISPATCHED
    request.dispatched_by = user_or_none(actor)
    request.dispatched_at = now or clock.now()
    request.version += 1
    request.save()
    # The volunteer it went to, or the partner unit's liaisons.
    recipients: list[User] = []
    if volunteer is not None and volunteer.user is not None:
        recipients.append(volunteer.user)
    if partner is not None:
        recipients += [
            liaison.user for liaison in partner.liaisons.select_related("user") if liaison.user
        ]
    if recipients:
        notification_send(
            recipients=recipients,
            kind="emergency_help_dispatched",
            title=gettext_noop("Help needed: %(kind)s at %(place)s"),
            title_params={
                "kind": str(HelpKind(request.kind).label),
                "place": str(request.household),
            },
            group_title=gettext_noop("A help request has been handed on to a responder"),
            link=reverse("emergency:help_detail", args=[request.pk]),
            channels=emergency_channels(),
        )
    # And who asked: help is on the way, and who is coming.
    help_dispatched_notify(request=request, actor=actor)
    return request


@transaction.atomic
def help_request_close(
    *,
    actor: User,
    request: HelpRequest,
    resolution: str,
    cancelled: bool = False,
    now: datetime | None = None,
) -> HelpRequest:
    """Done (or cancelled) with what was done; by staff, or by the volunteer it went to."""
    request = _locked_help(request)
    is_handler = is_help_handler(user=actor, help_request=request)
    if not is_handler and not may_command(actor, request.grid_path):
        raise NotAllowed(_("You may not close this help request."))
    if request.state not in OPEN_HELP_STATES:
        raise Conflict(_("This request is already closed."), field="request")
    resolution = (resolution or "").strip()
    if not resolution or len(resolution) > 500:
        raise ValidationError({"resolution": _("Say what was done, in at most 500 characters.")})
    request.state = HelpState.CANCELLED if cancelled else HelpState.DONE
    request.resolution = resolution
    request.done_at = now or clock.now()
    request.version += 1
    request.save()
    help_closed_notify(request=request, actor=actor)
    return request
