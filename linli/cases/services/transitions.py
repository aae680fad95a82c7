"""The state machine of a case: the transition table, who may take each step, and
`case_transition`, the only code that changes a case's state.

Every change appends a CaseEvent in the same transaction (services.events); a step's own
photos (of the place, the work, the result) are stored in that transaction too.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.cases.models import OPEN_STATES, Case, CaseState
from linli.cases.services.events import event_append
from linli.cases.services.notices import case_step_notify
from linli.cases.services.photos import PhotoFiles, case_photos_add
from linli.errors import Conflict, NotAllowed
from linli.grids.selectors import scope_for
from linli.notify.services import notification_send

S = CaseState

# (state, action) -> new state. Actions that keep the state (extensions, rating) are
# listed too, so that the table alone says where each action is allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.REPORTED, "accept"): S.ACCEPTED,
    (S.REPORTED, "reject"): S.REJECTED,
    (S.ACCEPTED, "dispatch"): S.DISPATCHED,
    (S.RETURNED, "dispatch"): S.DISPATCHED,
    (S.DISPATCHED, "start"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "resolve"): S.RESOLVED,
    (S.RESOLVED, "verify"): S.VERIFIED,
    (S.VERIFIED, "close"): S.CLOSED,
    (S.DISPATCHED, "return"): S.RETURNED,
    (S.IN_PROGRESS, "return"): S.RETURNED,
    # Verification failed: back to the dispatcher.
    (S.RESOLVED, "return"): S.RETURNED,
    # Staff may hand a case in hand to another person or team without changing its state.
    (S.DISPATCHED, "reassign"): S.DISPATCHED,
    (S.IN_PROGRESS, "reassign"): S.IN_PROGRESS,
    (S.DISPATCHED, "request_extension"): S.DISPATCHED,
    (S.IN_PROGRESS, "request_extension"): S.IN_PROGRESS,
    (S.DISPATCHED, "approve_extension"): S.DISPATCHED,
    (S.IN_PROGRESS, "approve_extension"): S.IN_PROGRESS,
    (S.RESOLVED, "reopen"): S.DISPATCHED,
    (S.VERIFIED, "reopen"): S.DISPATCHED,
    (S.CLOSED, "reopen"): S.DISPATCHED,
    (S.RESOLVED, "rate"): S.RESOLVED,
    (S.VERIFIED, "rate"): S.VERIFIED,
    (S.CLOSED, "rate"): S.CLOSED,
    (S.REPORTED, "mark_duplicate"): S.DUPLICATE,
    (S.ACCEPTED, "mark_duplicate"): S.DUPLICATE,
    (S.DISPATCHED, "mark_duplicate"): S.DUPLICATE,
    (S.IN_PROGRESS, "mark_duplicate"): S.DUPLICATE,
    (S.RETURNED, "mark_duplicate"): S.DUPLICATE,
}
ACTIONS = sorted({action for _state, action in TRANSITIONS})

# Who may do what: each action needs one permission (accounts.roles) on a unit whose
# subtree holds the case; the reporter may file, rate and reopen their own case.
P = Permission
ACTION_PERMISSIONS: dict[str, str] = {
    "create": P.CASE_FILE,
    "accept": P.CASE_HANDLE,
    "reject": P.CASE_HANDLE,
    "dispatch": P.CASE_HANDLE,
    "reassign": P.CASE_HANDLE,
    "start": P.CASE_HANDLE,
    "resolve": P.CASE_HANDLE,
    "return": P.CASE_HANDLE,
    "request_extension": P.CASE_HANDLE,
    "mark_duplicate": P.CASE_HANDLE,
    "escalate": P.CASE_HANDLE,
    "verify": P.CASE_SUPERVISE,
    "close": P.CASE_SUPERVISE,
    "approve_extension": P.CASE_SUPERVISE,
    "coordinate": P.CASE_COORDINATE,
}
REPORTER_ACTIONS = frozenset({"create", "rate", "reopen"})

ACTION_LABELS = {
    "accept": gettext_lazy("Accept (立案)"),
    "reject": gettext_lazy("Reject"),
    "dispatch": gettext_lazy("Dispatch"),
    "reassign": gettext_lazy("Reassign"),
    "start": gettext_lazy("Start work"),
    "resolve": gettext_lazy("Mark resolved"),
    "verify": gettext_lazy("Verify"),
    "close": gettext_lazy("Close"),
    "return": gettext_lazy("Return"),
    "request_extension": gettext_lazy("Request an extension"),
    "approve_extension": gettext_lazy("Approve the extension"),
    "reopen": gettext_lazy("Reopen"),
    "rate": gettext_lazy("Rate"),
    "mark_duplicate": gettext_lazy("Mark as duplicate"),
    "escalate": gettext_lazy("Escalate"),
    "coordinate": gettext_lazy("Record a coordination meeting (会商)"),
    # Not a step of the table: photos added on their own (services.photos.case_photos_add).
    "add_photos": gettext_lazy("Photos added"),
}

NOTE_REQUIRED = {
    "reject": gettext_lazy("A rejection needs a reason."),
    "return": gettext_lazy("Say why the case is returned."),
    "resolve": gettext_lazy("Say what was done."),
    "reopen": gettext_lazy("Say why the case is reopened."),
}
MAX_EXTENSIONS = 2
REOPEN_WINDOW = timedelta(days=7)


def may_act(*, user: User | None, action: str, case: Case) -> bool:
    if action in REPORTER_ACTIONS and user is not None and case.reporter_id == user.pk:
        return True
    permission = ACTION_PERMISSIONS.get(action)
    return permission is not None and scope_for(user).allows(permission, case.grid_path)


def case_lock(case: Case, expected_version: int | None) -> Case:
    """The case's row, locked until the caller's transaction ends. With `expected_version`
    (the version the caller's page or app showed), a case someone else has changed since is
    a Conflict: the caller reloads it rather than acting on what they no longer see."""
    locked = Case.objects.select_for_update().select_related("category").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("Someone else changed this case; reload it and try again."))
    return locked


@transaction.atomic
def case_transition(
    *,
    case: Case,
    actor: User | None,
    action: str,
    note: str = "",
    expected_version: int | None = None,
    photos: PhotoFiles = (),
    **data: Any,
) -> Case:
    """Apply one action from the table; returns the updated case (the argument is stale).

    `photos` document the step (at most 3, the rules of services.photos): stored with it, or
    the step is not taken either."""
    case = case_lock(case, expected_version)
    key = (case.state, action)
    if key not in TRANSITIONS:
        raise Conflict(
            _("“%(action)s” is not possible while the case is “%(state)s”.")
            % {"action": ACTION_LABELS.get(action, action), "state": CaseState(case.state).label},
            code="illegal_transition",
        )
    if not may_act(user=actor, action=action, case=case):
        raise NotAllowed(
            _("You may not do “%(action)s” on this case.")
            % {"action": ACTION_LABELS.get(action, action)}
        )
    note = (note or "").strip()
    if action in NOTE_REQUIRED and not note:
        raise ValidationError({"note": NOTE_REQUIRED[action]})
    now = clock.now()
    before = case.state
    event_data = GUARDS[action](case, now, data) if action in GUARDS else {}
    case.state = TRANSITIONS[key]
    case.version += 1
    case.save()
    event = event_append(
        case=case, actor=actor, action=action, from_state=before, note=note, data=event_data
    )
    if photos:
        case_photos_add(case=case, actor=actor, files=photos, event=event)
    # The reporter and the case's followers; sent only if the step commits.
    case_step_notify(case=case, actor=actor, before=before)
    return case


# Guards: each checks what its step needs beyond the table, sets the case's fields, and
# returns the data its timeline step records.
Guard = Callable[[Case, datetime, dict[str, Any]], dict[str, Any]]


def _accept(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    case.accepted_at = now
    return {}


def _dispatch(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    owner: User | None = data.get("owner_user")
    if owner is not None:
        if not scope_for(owner).allows(Permission.CASE_HANDLE, case.grid_path):
            raise ValidationError({"owner_user": _("This person holds no post covering the case.")})
        case.owner_user = owner
        # Written in the transition's transaction and delivered only after it commits, so a
        # step that fails after this point has notified nobody.
        notification_send(
            recipients=[owner],
            kind="case_assigned",
            title=gettext_noop("Case %(reference)s has been assigned to you"),
            title_params={"reference": case.reference},
            body=f"{case.category.name}: {case.title}",
            link=reverse("cases:detail", args=[case.pk]),
        )
    if data.get("handler_text"):
        case.handler_text = str(data["handler_text"])[:100]
    return {"owner_user": owner.pk if owner else None, "handler_text": case.handler_text}


def _reassign(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("owner_user") is None and not data.get("handler_text"):
        raise ValidationError(
            {"owner_user": _("Choose the person or team who takes the case over.")}
        )
    return _dispatch(case, now, data)


def _resolve(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    case.resolved_at = now
    return {}


def _close(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    case.closed_at = now
    return {}


def _request_extension(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    if case.extension_count >= MAX_EXTENSIONS:
        raise ValidationError(
            _("A case may be extended at most %(count)d times.") % {"count": MAX_EXTENSIONS},
            code="extension_cap",
        )
    if case.extension_pending:
        raise ValidationError(_("An extension is already requested."), code="extension_pending")
    case.extension_pending = True
    return {}


def _approve_extension(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    if not case.extension_pending:
        raise ValidationError(_("No extension was requested."), code="no_extension_requested")
    case.extension_pending = False
    case.extension_count += 1
    case.due_at = case.due_at + case.category.time_limit
    return {"due_at": case.due_at.isoformat()}


def _reopen(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    finished = max(filter(None, [case.resolved_at, case.closed_at]), default=None)
    if finished is None or now - finished > REOPEN_WINDOW:
        raise ValidationError(
            _("A case can be reopened within 7 days of being resolved."), code="reopen_window"
        )
    case.reopen_count += 1
    case.resolved_at = None
    case.closed_at = None
    case.satisfaction = None
    case.satisfaction_comment = ""
    case.due_at = now + case.category.time_limit
    return {}


def _rate(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    satisfaction = data.get("satisfaction")
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ValidationError({"satisfaction": _("Rate from 1 to 5.")})
    case.satisfaction = satisfaction
    case.satisfaction_comment = str(data.get("comment", "")).strip()[:500]
    return {"satisfaction": satisfaction}


def _mark_duplicate(case: Case, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    original = data.get("duplicate_of")
    if (
        not isinstance(original, Case)
        or original.pk == case.pk
        # The caller's copy may be stale: read the original's state now.
        or not Case.objects.filter(pk=original.pk, state__in=OPEN_STATES).exists()
    ):
        raise ValidationError({"duplicate_of": _("Choose another open case to merge into.")})
    case.duplicate_of = original
    return {"duplicate_of": original.reference}


GUARDS: dict[str, Guard] = {
    "accept": _accept,
    "dispatch": _dispatch,
    "reassign": _reassign,
    "resolve": _resolve,
    "close": _close,
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "reopen": _reopen,
    "rate": _rate,
    "mark_duplicate": _mark_duplicate,
}
