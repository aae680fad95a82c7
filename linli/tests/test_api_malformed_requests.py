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


def test_a_nul_character_in_a_text_is_refused_naming_the_field_and_nothing_is_written(world):
    from django.test import Client

    from linli.accounts.roles import Role
    from linli.cases.models import Case

    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.users[Role.RESIDENT])
    before = Case.objects.count()

    body = client.post(
        "/api/v1/cases",
        {"category": "a\x00b", "description": "楼道灯坏了"},
        content_type="application/json",
    )
    query = client.get("/api/v1/cases/duplicates", {"category": "x\x00"})

    assert (body.status_code, body.json()) == (
        422,
        {"message": "Text may not contain the NUL character (0x00).", "field": "category"},
    )
    assert (query.status_code, query.json()["field"]) == (422, "category")
    assert Case.objects.count() == before
