"""The resilience index, in the spirit of the BRIC method (Cutter et al.): every indicator
normalised to 0–1 against its target, averaged (weighted) within its dimension into the
structural, capacity and cultural sub-indices, and those averaged (weighted) into the
overall index.

Normalisation against a target rather than against the other units (BRIC's min–max) keeps a
community's score its own: it does not fall because a neighbour improved, and a single
community can be scored. Higher-is-better: value / target, capped at 1. Lower-is-better:
target / value, capped at 1 (1 at or below the target; a value of 0 scores 1). A unit
without a value for an indicator (nothing to measure) leaves it out of the average rather
than counting it as 0; a dimension with no values has no sub-index.
"""

from __future__ import annotations

from dataclasses import dataclass

from linli.resilience.engine import HIGHER, REGISTRY, Indicator
from linli.resilience.models import Dimension, DimensionSetting, IndicatorSetting


def score(value: float | None, target: float, direction: str) -> float | None:
    if value is None:
        return None
    if direction == HIGHER:
        return max(0.0, min(1.0, value / target))
    if value <= 0:
        return 1.0
    return max(0.0, min(1.0, target / value))


@dataclass(frozen=True)
class Settings:
    targets: dict[str, float]
    weights: dict[str, float]
    dimension_weights: dict[str, float]


def settings_in_force() -> Settings:
    """The catalogue's defaults overlaid with what staff changed."""
    targets = {code: indicator.target for code, indicator in REGISTRY.items()}
    weights = dict.fromkeys(REGISTRY, 1.0)
    for code, target, weight in IndicatorSetting.objects.values_list("code", "target", "weight"):
        if code in REGISTRY:
            targets[code], weights[code] = target, weight
    dimension_weights = dict.fromkeys(Dimension.values, 1.0)
    dimension_weights.update(dict(DimensionSetting.objects.values_list("dimension", "weight")))
    return Settings(targets, weights, dimension_weights)


def weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    total = sum(weight for _value, weight in pairs)
    if not pairs or total <= 0:
        return None
    return sum(value * weight for value, weight in pairs) / total


def sub_indices(scores: dict[str, float | None], settings: Settings) -> dict[str, float | None]:
    """{structural, capacity, cultural, overall} from one unit's indicator scores."""
    result: dict[str, float | None] = {}
    for dimension in Dimension.values:
        pairs = [
            (value, settings.weights[code])
            for code, value in scores.items()
            if value is not None and REGISTRY[code].dimension == dimension
        ]
        result[dimension] = weighted_mean(pairs)
    result["overall"] = weighted_mean(
        [
            (result[dimension], settings.dimension_weights.get(dimension, 1.0))
            for dimension in Dimension.values
            if result[dimension] is not None
        ]
    )
    return result


def indicator_score(indicator: Indicator, value: float | None, settings: Settings) -> float | None:
    return score(value, settings.targets[indicator.code], indicator.direction)
