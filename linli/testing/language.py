"""Messages in English: tests compare them with their msgids, whatever the site's default
language (zh-hans) and whatever its catalogue holds.

A test asks for the `english` fixture (a module: `pytestmark =
pytest.mark.usefixtures("english")`); an app whose every test reads English imports
`english_throughout` into its tests/conftest.py.
"""

import pytest
from django.utils import translation


def _in_english():
    # Only what runs in this thread: pages asked for over a test client answer in the
    # language the client asks for (linli.testing.clients.client_for).
    with translation.override("en"):
        yield


english = pytest.fixture(_in_english, name="english")
english_throughout = pytest.fixture(_in_english, autouse=True, name="english_throughout")
