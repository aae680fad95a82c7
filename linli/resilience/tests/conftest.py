import pytest
from django.test import Client
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in English (the msgids); the site's default language is Chinese.
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    # Pages answer in the language the browser asks for: these tests ask for English.
    return Client(HTTP_ACCEPT_LANGUAGE="en")
