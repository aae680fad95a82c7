"""A service's refusal that no page caught answers its status in the site's layout, once,
for every page (linli.web.errors.DomainRefusalMiddleware); the API keeps its JSON handler."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from linli.errors import Conflict, Invalid, NotAllowed
from linli.web.errors import DomainRefusalMiddleware

pytestmark = pytest.mark.django_db


def _answer(exception, path="/cases/1/"):
    request = RequestFactory().get(path, HTTP_REFERER="http://testserver/cases/1/")
    return DomainRefusalMiddleware(lambda request: None).process_exception(request, exception)


def test_a_refused_action_is_the_403_page_with_the_services_sentence():
    response = _answer(NotAllowed("Only the case's handler may resolve it."))
    assert response.status_code == 403
    assert "Only the case&#x27;s handler may resolve it." in response.content.decode()


def test_a_row_that_moved_on_is_the_409_page_with_the_way_back():
    response = _answer(Conflict("Someone else changed this case.", field="version"))
    body = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this case." in body
    assert 'href="http://testserver/cases/1/"' in body


def test_other_refusals_are_the_400_page_with_their_message():
    response = _answer(Invalid("Enter a room number.", field="room"))
    assert response.status_code == 400
    assert "Enter a room number." in response.content.decode()


def test_a_plain_validation_error_with_a_permission_code_is_a_403():
    response = _answer(ValidationError("No.", code="permission_denied"))
    assert response.status_code == 403


def test_the_api_and_other_exceptions_are_left_to_their_own_handlers():
    assert _answer(NotAllowed("No."), path="/api/v1/cases/1") is None
    assert _answer(ValueError("boom")) is None
