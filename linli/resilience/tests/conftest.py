import pytest
from django.test import Client

from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English


@pytest.fixture
def client():
    # Pages answer in the language the browser asks for: these tests ask for English.
    return Client(HTTP_ACCEPT_LANGUAGE="en")
