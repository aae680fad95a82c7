"""The indicator catalogue: importing this module registers every indicator.

Structural, capacity and cultural indicators live in one module each; `INDICATORS` lists
them in catalogue order (dimension, then code).
"""

from linli.resilience import capacity, cultural, structural  # noqa: F401 - they register
from linli.resilience.engine import REGISTRY
from linli.resilience.models import Dimension

DIMENSION_ORDER = {dimension: order for order, dimension in enumerate(Dimension.values)}


def indicators():
    return sorted(REGISTRY.values(), key=lambda i: (DIMENSION_ORDER[i.dimension], i.code))
