"""Requests the API cannot even parse are refused with a 4xx in the API's error shape.

Found by the negative pass of test_api_schema_property.py; pinned here so a regression names
itself without running the slow property test.
"""

from django.test import Client


def test_a_request_without_a_body_is_422_naming_the_body(db):
    response = Client().generic("POST", "/api/v1/auth/token", b"", content_type="")
    assert response.status_code == 422
    assert response.json() == {"message": "Field required", "field": "body"}


def test_a_multipart_request_without_a_boundary_is_400_not_500(world):
    # The JSON is read, the login fails, and the login throttle reads the form data that the
    # header promised: a multipart body without its boundary.
    response = Client(raise_request_exception=False).generic(
        "POST",
        "/api/v1/auth/token",
        b'{"username": "nobody", "password": "wrong-password"}',
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.json() == {"message": "请求无效。", "field": None}
