import pytest

from linli.cases.models import CaseCategory


@pytest.fixture
def category(db) -> CaseCategory:
    return CaseCategory.objects.get(code="SAF-01")
