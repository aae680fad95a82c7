"""Reads of the messages residents sent in, through the scope kernel."""

from django.db.models import Q, QuerySet

from linli.accounts.grid_paths import within
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.selectors import scope_for
from linli.inbound.models import InboundMessage, InboundState
from linli.inbound.services import may_handle


def inbound_visible(*, user: User) -> QuerySet[InboundMessage]:
    """The messages the user may handle: in their scope, and the unmatched ones for staff
    whose post covers a community or more."""
    paths = scope_for(user).paths_for(Permission.CASE_FILE)
    if not paths:
        return InboundMessage.objects.none()
    condition = within(paths)
    if may_handle(user, InboundMessage(grid_path="")):
        condition |= Q(grid_path="")
    return InboundMessage.objects.filter(condition).select_related(
        "resident__household__building", "case", "help_request"
    )


def inbound_waiting(*, user: User) -> QuerySet[InboundMessage]:
    return inbound_visible(user=user).filter(state=InboundState.NEW)


def inbound_get(*, user: User, message_id: int) -> InboundMessage:
    return get_visible_or_404(inbound_visible(user=user), message_id, field="message")
