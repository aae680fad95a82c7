from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linli.testing.language import english_throughout  # noqa: F401 - every test reads English

# A Thursday morning in Shanghai: every test of this app runs at this moment.
NOW = datetime(2026, 3, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _pinned_clock(request):
    # The browser tests keep the clock running: the live server and Chromium wait on it.
    tick = request.node.get_closest_marker("browser") is not None
    with time_machine.travel(NOW, tick=tick):
        yield


@pytest.fixture(autouse=True)
def _registration_settings(settings):
    # Codes as often as the tests ask for them (linli.signin's own tests check its limits).
    settings.LINLI_PHONE_CODE_RESEND_SECONDS = 0
    settings.LINLI_PHONE_CODES_PER_NUMBER_HOUR = 1000
    settings.LINLI_PHONE_CODES_PER_ADDRESS_HOUR = 1000
    settings.LINLI_SITE_URL = "https://linli.example.cn"
