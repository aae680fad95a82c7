"""What followers of an emergency read besides its rows: the activation's timeline (one
event per step taken) and the banner of live emergencies on every page."""

from __future__ import annotations

from django.db import transaction

from linli.accounts.models import User
from linli.emergency.models import Activation, ActivationEvent
from linli.emergency.selectors import live_activations_forget
from linli.emergency.services.guards import user_or_none


def event_record(activation: Activation, kind: str, actor: User | None, **detail) -> None:
    ActivationEvent.objects.create(
        activation=activation, kind=kind, actor=user_or_none(actor), detail=detail
    )


def banner_changed() -> None:
    """Every page's banner reads the live emergencies from the cache: drop the entry now
    (this transaction's own pages) and again after commit (everyone else's)."""
    live_activations_forget()
    transaction.on_commit(live_activations_forget)
