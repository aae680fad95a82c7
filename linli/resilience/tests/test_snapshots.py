"""Weekly snapshots: every unit of every street in one run, stored under the closing Sunday,
replaced (not added to) when the week is taken again, the same rows whether written by
INSERT or, for large weeks on PostgreSQL, by COPY."""

from datetime import date, datetime

from django.utils import timezone

from linli.grids.models import GridUnit
from linli.resilience.engine import REGISTRY
from linli.resilience.models import IndexSnapshot, IndicatorValue
from linli.resilience.services import snapshot_take, snapshots_take_all

# A Wednesday: the week closes on Sunday 2026-11-15.
WEDNESDAY = timezone.make_aware(datetime(2026, 11, 11, 15, 0))


def rows():
    return sorted(
        IndicatorValue.objects.values_list(
            "grid_path", "period_end", "code", "value", "numerator", "denominator", "score"
        ),
        key=repr,
    )


def test_the_weekly_snapshot_covers_every_unit_and_replaces_itself(world):
    written = snapshots_take_all(end=WEDNESDAY)
    units = GridUnit.objects.count()
    assert IndexSnapshot.objects.count() == units
    assert set(IndexSnapshot.objects.values_list("period_end", flat=True)) == {date(2026, 11, 15)}
    assert written == IndicatorValue.objects.count()
    assert set(IndicatorValue.objects.values_list("code", flat=True)) == set(REGISTRY)
    first = rows()
    assert snapshots_take_all(end=WEDNESDAY) == written
    assert rows() == first
    # The district-wide run and a street's own run give the same values.
    snapshot_take(root=GridUnit.objects.get(code="S"), end=WEDNESDAY)
    assert rows() == first


def test_a_monday_midnight_end_closes_the_week_before(world):
    monday = timezone.make_aware(datetime(2026, 11, 16, 0, 0))
    snapshots_take_all(end=monday)
    assert set(IndexSnapshot.objects.values_list("period_end", flat=True)) == {date(2026, 11, 15)}


def test_copy_and_insert_store_the_same_rows(world, monkeypatch):
    snapshots_take_all(end=WEDNESDAY)
    inserted = rows()
    monkeypatch.setattr("linli.resilience.services.COPY_THRESHOLD", 0)
    snapshots_take_all(end=WEDNESDAY)
    assert rows() == inserted
    assert IndexSnapshot.objects.count() == GridUnit.objects.count()
