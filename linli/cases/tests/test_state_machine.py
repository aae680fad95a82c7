"""Random walks over the transition table: the service and the table never disagree."""

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from linli.accounts.roles import Role
from linli.cases.models import CaseCategory, CaseEvent, CaseState
from linli.cases.services import ACTIONS, TRANSITIONS, case_create, case_transition

TABLE_STATES = {state for state, _action in TRANSITIONS} | set(TRANSITIONS.values())
TERMINAL = {CaseState.REJECTED, CaseState.DUPLICATE}


def test_random_actions_follow_the_transition_table(world):
    category = CaseCategory.objects.get(code="SAF-01")
    actors = [world.users[Role.RESIDENT], world.users[Role.MICRO_GRID_LEAD]]

    def new_case():
        return case_create(
            reporter=actors[0],
            category=category,
            description="楼道堆物",
            source="resident_report",
            building=world.building,
        )

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.case = new_case()
            self.target = new_case()
            self.successes = 0

        @rule(action=st.sampled_from(ACTIONS), actor=st.sampled_from(actors))
        def act(self, action, actor):
            before = self.case.state
            try:
                self.case = case_transition(
                    case=self.case,
                    actor=actor,
                    action=action,
                    note="说明",
                    satisfaction=4,
                    duplicate_of=self.target,
                    owner_user=actors[1],
                )
            except ValidationError:
                self.case.refresh_from_db()
                assert self.case.state == before
                return
            self.successes += 1
            assert self.case.state == TRANSITIONS[(before, action)]
            assert before not in TERMINAL
            if before == CaseState.CLOSED:
                assert action in {"reopen", "rate"}

        @invariant()
        def state_is_in_the_table(self):
            assert self.case.state in TABLE_STATES

        @invariant()
        def one_event_per_success(self):
            events = CaseEvent.objects.filter(case=self.case).exclude(action="create")
            assert events.count() == self.successes

    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
