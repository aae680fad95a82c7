"""The case's timeline: every write to a case appends one CaseEvent in its own transaction,
so the timeline alone tells who did what, when, and from which state."""

from datetime import datetime
from typing import Any

from linli import clock
from linli.accounts.models import User
from linli.cases.models import Case, CaseEvent


def event_append(
    *,
    case: Case,
    actor: User | None,
    action: str,
    from_state: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """One step of the timeline, ending in the case's current state. Called by the write
    that took the step, inside its transaction; a step without a person (the overdue sweep)
    has no actor."""
    return CaseEvent.objects.create(
        case=case,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_state=from_state,
        to_state=case.state,
        note=note,
        data=data or {},
        created_at=at or clock.now(),
    )
