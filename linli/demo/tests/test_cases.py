"""The demo's case history: made through the real services, then moved back in time."""

from datetime import timedelta

from django.utils import timezone

from linli.cases.models import Case, CaseEvent
from linli.demo.cases import CASE_COUNT, HISTORY_DAYS, demo_cases


def test_demo_cases_are_written_once_with_a_consistent_history(world):
    before = timezone.now()
    assert demo_cases(community=world.community, seed=7) == CASE_COUNT
    assert demo_cases(community=world.community, seed=7) == 0
    cases = list(Case.objects.all())
    assert len(cases) == CASE_COUNT
    assert all(case.grid_path.startswith(world.community.path) for case in cases)
    oldest = before - timedelta(days=HISTORY_DAYS, minutes=1)
    assert all(oldest <= case.created_at <= timezone.now() for case in cases)
    assert {case.state for case in cases} >= {"closed", "in_progress", "resolved"}
    for case in cases:
        stamps = list(
            CaseEvent.objects.filter(case=case).order_by("id").values_list("created_at", flat=True)
        )
        assert stamps[0] == case.created_at
        assert stamps == sorted(stamps)
        if case.closed_at is not None:
            assert case.accepted_at <= case.resolved_at <= case.closed_at
        assert case.original_due_at == case.created_at + timedelta(hours=case.category.sla_hours)


def test_demo_cases_are_the_same_for_the_same_seed(world):
    demo_cases(community=world.community, seed=7)
    first = list(Case.objects.order_by("id").values_list("category__code", "state", "source"))
    # Merged duplicates go first: they must keep naming their original.
    Case.objects.filter(state="duplicate").delete()
    Case.objects.all().delete()
    demo_cases(community=world.community, seed=7)
    again = list(Case.objects.order_by("id").values_list("category__code", "state", "source"))
    assert again == first
