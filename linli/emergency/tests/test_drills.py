"""Simulated drills on the shared world: the command prints the prediction and keeps it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from linli.emergency.models import Simulation

CERTAIN = [
    "--set",
    "acknowledge_delay_sigma=0",
    "--set",
    "non_response_share=0",
    "--set",
    "no_answer_probability=0",
    "--set",
    "contact_sigma=0",
]


def test_drill_simulate_predicts_full_contact_and_keeps_the_result(emergency_world, plan):
    out = StringIO()
    call_command("drill", "simulate", "--plan", plan.name, "--scope", "A", *CERTAIN, stdout=out)
    simulation = Simulation.objects.get()
    assert simulation.targeted_households == 2
    assert simulation.grid_path == emergency_world.community.path
    # One care volunteer: acknowledges at 5 min, talks 6 min at 101 (his own building),
    # walks 111 m × 1.3 at 70 m/min (about 2.06 min) and talks 6 min at 201.
    assert simulation.minutes_to_50 == pytest.approx(11.0)
    assert simulation.minutes_to_100 == pytest.approx(11.0 + 111.19 * 1.3 / 70 + 6.0, abs=0.05)
    assert simulation.result["assignment"]["tasks"] == 2
    assert simulation.result["assignment"]["assigned"] == 2
    text = out.getvalue()
    assert "targeted households 2: 50% 11 min" in text
    assert "slowest: 陈志愿" in text


def test_drill_simulate_names_an_unknown_plan_or_parameter(emergency_world, plan):
    with pytest.raises(CommandError, match="no plan 'nope'"):
        call_command("drill", "simulate", "--plan", "nope", "--scope", "A")
    with pytest.raises(CommandError, match="Unknown parameters: speed"):
        call_command(
            "drill", "simulate", "--plan", str(plan.pk), "--scope", "A", "--set", "speed=3"
        )
    assert Simulation.objects.count() == 0
