"""The benchmarks' own tests run on the same small world as linli's: its fixtures are named
here (a conftest registers the fixtures it holds, imported or not)."""

from linli.conftest import (  # noqa: F401
    _fast_password_hashing,
    _moved_clock,
    _no_live_emergency,
    _plain_static_storage,
    world,
)
from linli.emergency.tests.conftest import emergency_world, plan  # noqa: F401
from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English
