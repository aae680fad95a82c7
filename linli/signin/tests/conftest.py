# The local stand-in for an SMS gateway (nothing leaves the machine).
from linli.notify.tests.conftest import gateway  # noqa: F401
from linli.testing.language import english_throughout  # noqa: F401 - every test reads English
