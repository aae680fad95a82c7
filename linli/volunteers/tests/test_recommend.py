"""The team optimiser on small worked examples with known optima."""

import itertools
import random

from django.utils import translation

from linli.volunteers.recommend import Candidate, TeamSlot, fit, optimise, score_matrix
from linli.volunteers.selectors import reason_text

MEDICAL = TeamSlot(id=1, kind="medical_support", required_skills=frozenset({"medical"}), capacity=1)
SUPPLIES = TeamSlot(id=2, kind="supplies", required_skills=frozenset({"driving"}), capacity=1)


def candidate(id, skills=(), willingness=(), slots=()):
    return Candidate(id, frozenset(skills), frozenset(willingness), frozenset(slots))


def placed(plan):
    return {p.volunteer_id: p.team_id for p in plan.placements}


def test_fit_scores_willingness_skills_and_slots():
    both = candidate(1, {"medical", "it"}, {"medical_support"}, {"mon_am", "tue_am", "sat_pm"})
    assert fit(both, MEDICAL).score == 10 + 4 + 3
    assert fit(both, SUPPLIES).score == 3
    night = TeamSlot(3, "patrol", frozenset(), 1, duty_slots=frozenset({"sat_pm", "sun_eve"}))
    assert fit(both, night).slots == 1


def test_optimum_beats_the_greedy_choice():
    # A fits both teams equally, B only the medical team. Greedy (A first, into medical)
    # scores 14; the optimum sends A to supplies and B to medical: 28. C stays out.
    versatile = candidate(10, {"medical", "driving"}, {"medical_support", "supplies"})
    doctor = candidate(11, {"medical"}, {"medical_support"})
    newcomer = candidate(12)
    plan = optimise([versatile, doctor, newcomer], [MEDICAL, SUPPLIES])
    assert placed(plan) == {10: 2, 11: 1, 12: None}
    assert (plan.objective, plan.bound, plan.placed) == (28, 28, 2)


def test_bound_exceeds_objective_only_when_capacity_binds():
    doctors = [
        candidate(20, {"medical"}, {"medical_support"}),
        candidate(21, {"medical"}, {"medical_support"}),
    ]
    plan = optimise(doctors, [MEDICAL, SUPPLIES])
    # Both want the one medical place: one gets it (14), the other fills supplies (0).
    assert sorted(placed(plan).values()) == [1, 2]
    assert (plan.objective, plan.bound, plan.placed) == (14, 28, 2)


def test_teams_fill_to_target_even_with_poor_fits():
    plan = optimise([candidate(30), candidate(31)], [MEDICAL, SUPPLIES])
    assert sorted(placed(plan).values()) == [1, 2]
    assert plan.objective == 0


def test_no_teams_places_nobody():
    plan = optimise([candidate(40)], [TeamSlot(5, "care", frozenset(), 0)])
    assert placed(plan) == {40: None}
    assert (plan.objective, plan.placed) == (0, 0)


def test_reason_in_words():
    row = {"team_id": 1, "skills": ["medical"], "willing": True, "slots": 6, "adjusted": False}
    with translation.override("en"):
        assert reason_text(row, "医疗保障") == (
            "Skills matched: Medical; Willing: 医疗保障; Available slots: 6"
        )
        assert reason_text({"team_id": None}, None) == "No place left in any team"


def _brute_force(candidates, teams) -> tuple[int, int]:
    """(most placed, best score among those) by trying every assignment."""
    best = (0, 0)
    for choice in itertools.product([None, *range(len(teams))], repeat=len(candidates)):
        counts = [choice.count(column) for column in range(len(teams))]
        if any(count > team.capacity for count, team in zip(counts, teams, strict=True)):
            continue
        placed = sum(1 for column in choice if column is not None)
        score = sum(
            fit(candidate, teams[column]).score
            for candidate, column in zip(candidates, choice, strict=True)
            if column is not None
        )
        best = max(best, (placed, score))
    return best


def test_matches_brute_force_on_random_small_communities():
    rng = random.Random(4)
    skills = ["medical", "driving", "it", "repair"]
    kinds = ["medical_support", "supplies", "liaison"]
    slots = ["mon_am", "tue_pm", "sat_eve"]
    for _round in range(25):
        teams = [
            TeamSlot(
                id=index + 1,
                kind=kind,
                required_skills=frozenset(rng.sample(skills, 2)),
                capacity=rng.randint(0, 2),
                duty_slots=frozenset(rng.sample(slots, rng.randint(0, 2))),
            )
            for index, kind in enumerate(kinds)
        ]
        candidates = [
            candidate(
                index + 1,
                rng.sample(skills, rng.randint(0, 2)),
                rng.sample(kinds, rng.randint(0, 2)),
                rng.sample(slots, rng.randint(0, 3)),
            )
            for index in range(5)
        ]
        assert score_matrix(candidates, teams).tolist() == [
            [fit(c, t).score for t in teams] for c in candidates
        ]
        plan = optimise(candidates, teams)
        assert (plan.placed, plan.objective) == _brute_force(candidates, teams)
