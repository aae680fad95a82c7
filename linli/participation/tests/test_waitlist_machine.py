"""Random sign-ups, cancellations and capacity changes against a first-come-first-served
model of places and the waitlist: the services never disagree with it."""

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.participation.activities.services import activity_update, signup_cancel, signup_create
from linli.participation.models import SignUp, SignUpStatus
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import member


def test_places_and_the_waitlist_follow_first_come_first_served(world):
    people = [member(world, f"p{n}") for n in range(5)]
    secretary = world.users[Role.SECRETARY]

    class WaitlistMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.activity = make_activity(world, capacity=2)
            self.occurrence = self.activity.occurrences.get()
            self.capacity = 2
            self.confirmed: list[int] = []
            self.waiting: list[int] = []
            self.promotions = 0
            self.notes_before = Notification.objects.filter(kind="activity.promoted").count()

        def promote(self):
            while len(self.confirmed) < self.capacity and self.waiting:
                self.confirmed.append(self.waiting.pop(0))
                self.promotions += 1

        @rule(index=st.integers(0, len(people) - 1))
        def sign_up(self, index):
            person = people[index]
            live = person.pk in self.confirmed or person.pk in self.waiting
            try:
                signup_create(occurrence=self.occurrence, user=person)
            except ValidationError as error:
                assert live and list(error.message_dict) == ["occurrence"]
                return
            assert not live
            if len(self.confirmed) < self.capacity:
                self.confirmed.append(person.pk)
            else:
                self.waiting.append(person.pk)

        @rule(index=st.integers(0, len(people) - 1))
        def cancel(self, index):
            person = people[index]
            sign_up = (
                SignUp.objects.filter(occurrence=self.occurrence, user=person)
                .exclude(status=SignUpStatus.CANCELLED)
                .first()
            )
            if sign_up is None:
                return
            signup_cancel(sign_up=sign_up, actor=person)
            if person.pk in self.confirmed:
                self.confirmed.remove(person.pk)
                self.promote()
            else:
                self.waiting.remove(person.pk)

        @rule(capacity=st.integers(1, 4))
        def change_capacity(self, capacity):
            try:
                activity_update(
                    actor=secretary, activity=self.activity, title="周四行动日", capacity=capacity
                )
            except ValidationError as error:
                assert capacity < len(self.confirmed)
                assert list(error.message_dict) == ["capacity"]
                return
            assert capacity >= len(self.confirmed)
            self.capacity = capacity
            self.promote()

        @invariant()
        def statuses_match_the_model(self):
            rows = SignUp.objects.filter(occurrence=self.occurrence).exclude(
                status=SignUpStatus.CANCELLED
            )
            confirmed = list(
                rows.filter(status=SignUpStatus.CONFIRMED)
                .order_by("promoted_at", "created_at", "id")
                .values_list("user_id", flat=True)
            )
            waiting = list(
                rows.filter(status=SignUpStatus.WAITLISTED)
                .order_by("created_at", "id")
                .values_list("user_id", flat=True)
            )
            assert sorted(confirmed) == sorted(self.confirmed)
            assert waiting == self.waiting
            assert len(confirmed) <= self.capacity

        @invariant()
        def every_promotion_is_told_once(self):
            notes = Notification.objects.filter(kind="activity.promoted").count()
            assert notes - self.notes_before == self.promotions

    run_state_machine_as_test(
        WaitlistMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
