"""`/api/v1/resilience`: the indicator catalogue with its settings, a unit's latest stored
index and indicators, its trend, the rows behind one indicator value, and the audited
changes of targets and weights (street administrators).

Mounted by linli/api.py with `api.add_router("/resilience", router)`; conventions as in
grids.api. Reads come from the stored weekly snapshots; a unit outside the caller's
registry scope answers 404 like a unit that does not exist.
"""

from datetime import date

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from linli.accounts.models import AuditEntry
from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    Id,
    NotVisible,
    Real,
    column_text,
    visible_or_404,
)
from linli.grids.models import GridUnit
from linli.grids.selectors import grid_unit_get
from linli.resilience import selectors, services
from linli.resilience.catalogue import indicators
from linli.resilience.engine import REGISTRY, Indicator
from linli.resilience.index import Settings, settings_in_force
from linli.resilience.models import Dimension, DimensionSetting, IndicatorSetting

router = Router(tags=["resilience"])


class IndicatorOut(Schema):
    code: str
    dimension: str
    name: str
    name_zh: str
    name_en: str
    formula: str
    source: str
    direction: str
    unit: str
    finest_level: str
    target: float
    default_target: float
    weight: float


class DimensionOut(Schema):
    dimension: str
    label: str
    weight: float


class CatalogueOut(Schema):
    indicators: list[IndicatorOut]
    dimensions: list[DimensionOut]


class UnitOut(Schema):
    id: int
    name: str
    level: str
    path: str


class IndexOut(Schema):
    structural: float | None
    capacity: float | None
    cultural: float | None
    overall: float | None


class ValueOut(Schema):
    code: str
    dimension: str
    value: float | None
    numerator: float | None
    denominator: float | None
    score: float | None
    target: float
    weight: float


class UnitIndexOut(Schema):
    unit: UnitOut
    period_end: date | None
    index: IndexOut | None
    indicators: list[ValueOut]


class TrendPointOut(IndexOut):
    period_end: date


class RowsOut(Schema):
    code: str
    period_end: date | None
    value: float | None
    numerator: float | None
    denominator: float | None
    columns: list[str]
    rows: list[list[str]]
    links: list[str | None]
    total: int
    note: str


class RowsFilters(Schema):
    period: BoundedDate | None = None


class IndicatorPatch(Schema):
    target: Real | None = None
    weight: Real | None = None
    reason: column_text(AuditEntry, "reason") = ""


class DimensionPatch(Schema):
    weight: Real
    reason: column_text(AuditEntry, "reason") = ""


def _indicator(indicator: Indicator, settings: Settings) -> dict:
    names = selectors.names_in(indicator)
    return {
        "code": indicator.code,
        "dimension": indicator.dimension,
        "name": str(indicator.name),
        "name_zh": names["zh"],
        "name_en": names["en"],
        "formula": str(indicator.formula),
        "source": str(indicator.source),
        "direction": indicator.direction,
        "unit": indicator.unit,
        "finest_level": indicator.finest_level,
        "target": settings.targets[indicator.code],
        "default_target": indicator.target,
        "weight": settings.weights[indicator.code],
    }


def _dimension(dimension: str, settings: Settings) -> dict:
    return {
        "dimension": dimension,
        "label": str(Dimension(dimension).label),
        "weight": settings.dimension_weights.get(dimension, 1.0),
    }


def _unit(request: HttpRequest, unit_id: Id) -> GridUnit:
    return visible_or_404(grid_unit_get, "unit_id", user=request.auth, grid_unit_id=unit_id)


def _index(snapshot) -> dict | None:
    if snapshot is None:
        return None
    return {name: getattr(snapshot, name) for name in selectors.INDEX_FIELDS}


def _viewer(request: HttpRequest) -> None:
    if not selectors.may_view_dashboard(request.auth):
        raise Http404


@router.get("/indicators", response={200: CatalogueOut, **ERRORS})
def catalogue(request: HttpRequest) -> dict:
    _viewer(request)
    settings = settings_in_force()
    return {
        "indicators": [_indicator(indicator, settings) for indicator in indicators()],
        "dimensions": [_dimension(dimension, settings) for dimension in Dimension.values],
    }


@router.get("/units/{int:unit_id}", response={200: UnitIndexOut, **ERRORS})
def unit_index(request: HttpRequest, unit_id: Id) -> dict:
    unit = _unit(request, unit_id)
    period_end = selectors.latest_period(unit=unit)
    body = {
        "unit": {"id": unit.pk, "name": unit.name, "level": unit.level, "path": unit.path},
        "period_end": period_end,
        "index": None,
        "indicators": [],
    }
    if period_end is None:
        return body
    settings = settings_in_force()
    groups = selectors.indicator_lines(unit=unit, period_end=period_end, settings=settings)
    body["index"] = _index(selectors.index_at(unit=unit, period_end=period_end))
    body["indicators"] = [
        {
            "code": line.code,
            "dimension": dimension,
            "value": line.value,
            "numerator": line.stored.numerator if line.stored else None,
            "denominator": line.stored.denominator if line.stored else None,
            "score": line.score,
            "target": line.target,
            "weight": line.weight,
        }
        for dimension, lines in groups.items()
        for line in lines
    ]
    return body


@router.get("/units/{int:unit_id}/trend", response={200: list[TrendPointOut], **ERRORS})
def unit_trend(request: HttpRequest, unit_id: Id) -> list[dict]:
    unit = _unit(request, unit_id)
    return [
        {"period_end": point.period_end, **_index(point)} for point in selectors.trend(unit=unit)
    ]


@router.get("/units/{int:unit_id}/indicators/{code}/rows", response={200: RowsOut, **ERRORS})
def indicator_rows(
    request: HttpRequest,
    unit_id: Id,
    code: column_text(IndicatorSetting, "code"),
    filters: Query[RowsFilters],
) -> dict:
    unit = _unit(request, unit_id)
    try:
        selectors.indicator_for(unit=unit, code=code)
    except Http404:
        raise NotVisible("code") from None
    period_end = filters.period or selectors.latest_period(unit=unit)
    stored = selectors.value_at(unit=unit, period_end=period_end, code=code) if period_end else None
    rows = (
        selectors.drilldown_rows(user=request.auth, unit=unit, code=code, period_end=period_end)
        if period_end
        else None
    )
    return {
        "code": code,
        "period_end": period_end,
        "value": stored.value if stored else None,
        "numerator": stored.numerator if stored else None,
        "denominator": stored.denominator if stored else None,
        "columns": rows.columns if rows else [],
        "rows": rows.rows if rows else [],
        "links": rows.links if rows else [],
        "total": rows.total if rows else 0,
        "note": rows.note if rows else "",
    }


@router.patch("/indicators/{code}", response={200: IndicatorOut, **WRITE_ERRORS})
def indicator_change(
    request: HttpRequest, code: column_text(IndicatorSetting, "code"), payload: IndicatorPatch
) -> dict:
    _viewer(request)
    if code not in REGISTRY:
        raise NotVisible("code")
    services.indicator_setting_update(
        actor=request.auth,
        code=code,
        target=payload.target,
        weight=payload.weight,
        reason=payload.reason,
    )
    return _indicator(REGISTRY[code], settings_in_force())


@router.patch("/dimensions/{dimension}", response={200: DimensionOut, **WRITE_ERRORS})
def dimension_change(
    request: HttpRequest,
    dimension: column_text(DimensionSetting, "dimension"),
    payload: DimensionPatch,
) -> dict:
    _viewer(request)
    if dimension not in Dimension.values:
        raise NotVisible("dimension")
    services.dimension_setting_update(
        actor=request.auth, dimension=dimension, weight=payload.weight, reason=payload.reason
    )
    return _dimension(dimension, settings_in_force())
