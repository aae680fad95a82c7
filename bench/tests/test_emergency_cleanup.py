"""bench/emergency_activation.py deletes only what it created. It used to delete every
activation, and `make bench` failed on the demo's past drill with its help requests
(issue 12)."""

import sys
from pathlib import Path

from linli.accounts.roles import Role
from linli.emergency.models import Activation, ActivationEvent, HelpRequest, Task
from linli.emergency.services import activation_stand_down, activation_start, task_report
from linli.notify.models import Notification, OutboxMessage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import emergency_activation as bench  # noqa: E402


def start(*, actor, plan, scope) -> Activation:
    return activation_start(
        actor=actor, plan=plan, scope=scope, grade=4, is_drill=True, acknowledge_problems=True
    )


def needs_help(activation: Activation, actor) -> HelpRequest:
    task = activation.tasks.filter(kind="welfare_check").order_by("id").first()
    task_report(
        actor=actor,
        task=task,
        outcome="needs_help",
        help_kind="food",
        help_urgency=3,
        help_description="家中缺少食品",
    )
    return HelpRequest.objects.get(activation=activation)


def snapshot() -> dict[str, set]:
    return {
        "activations": set(Activation.objects.values_list("pk", flat=True)),
        "tasks": set(Task.objects.values_list("pk", flat=True)),
        "events": set(ActivationEvent.objects.values_list("pk", flat=True)),
        "help": set(HelpRequest.objects.values_list("pk", flat=True)),
        "notifications": set(Notification.objects.values_list("pk", flat=True)),
        "outbox": set(OutboxMessage.objects.values_list("pk", flat=True)),
    }


def test_clean_up_removes_its_own_activations_and_leaves_a_drill_with_help_requests(
    emergency_world, plan
):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    # As in the demo: a past drill with a help request, stood down, its notifications sent.
    drill = start(actor=secretary, plan=plan, scope=world.community)
    needs_help(drill, secretary)
    activation_stand_down(actor=secretary, activation=drill, reason="演练结束")
    before = snapshot()
    assert before["help"] and before["notifications"] and before["tasks"]

    ours = start(
        actor=bench.bench_user(), plan=bench.plan_for(world.community), scope=world.community
    )
    added = {name: ids - before[name] for name, ids in snapshot().items()}
    assert ours.tasks.exists()
    assert {n.kind for n in Notification.objects.filter(pk__in=added["notifications"])} == {
        "emergency_tasks",
        "emergency_activated",
    }
    assert added["outbox"]

    assert bench.delete_own_activations() == 1

    assert snapshot() == before
    assert bench.delete_own_activations() == 0


def test_its_own_activation_is_left_alone_once_someone_added_to_it(emergency_world, plan):
    world = emergency_world
    ours = start(
        actor=bench.bench_user(), plan=bench.plan_for(world.community), scope=world.community
    )
    request = needs_help(ours, world.users[Role.SECRETARY])
    before = snapshot()

    assert bench.delete_own_activations() == 0

    assert snapshot() == before
    assert HelpRequest.objects.get().pk == request.pk
