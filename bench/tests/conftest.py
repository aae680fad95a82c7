"""The benchmarks' own tests run on the same small world as linli's: its fixtures are named
here (a conftest registers the fixtures it holds, imported or not)."""

from linli.conftest import (  # noqa: F401
    _fast_password_hashing,
    _moved_clock,
    _no_live_emergency,
    _plain_static_storage,
    world,
)
from linli.emergency.tests.conftest import _english, emergency_world, plan  # noqa: F401
