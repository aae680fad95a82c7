"""Error pages: 400, 403, 404, 500 and a refused form, in Chinese and English, in the site's
layout, with a way home and the request id; the 404 never tells "outside your scope" from
"does not exist"; a 500 renders with the database refusing every query."""

import re

import pytest
from django.db import OperationalError, connection
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from linli.accounts.roles import Role
from linli.cases.models import CaseCategory, CaseSource
from linli.cases.services import case_create
from linli.conftest import PASSWORD
from linli.web.errors import BARE_500, page_not_found, server_error
from linli.web.tests.error_urls import INTERNALS

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


@pytest.fixture(autouse=True)
def _error_routes(settings):
    # The request id comes from the site's own middleware, which takes a proxy's X-Request-ID.
    settings.ROOT_URLCONF = "linli.web.tests.error_urls"


def page_text(response) -> str:
    """What the page says, tags removed and white space collapsed."""
    main = response.content.decode().split("<main>", 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def assert_in_the_site_layout(response, language: str) -> None:
    body = response.content.decode()
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert f'<html lang="{language}">' in body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert '<link rel="stylesheet" href="/static/web/linli.css">' in body
    assert '<a class="brand" href="/">邻里 <span>Linli</span></a>' in body
    assert '<a class="button primary big" href="/" data-testid="error-home">' in body


# 404 --------------------------------------------------------------------------------------
def test_not_found_in_english(db):
    response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-1", **ENGLISH)
    assert response.status_code == 404
    assert_in_the_site_layout(response, "en")
    assert "<title>Page not found · Linli</title>" in response.content.decode()
    assert page_text(response) == (
        "Page not found This page does not exist, or you do not have access to it. "
        "Check the address, or start again from the home page. Back to the home page "
        "Request ID: req-1"
    )


def test_not_found_in_chinese(db):
    response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-1", **CHINESE)
    assert response.status_code == 404
    assert_in_the_site_layout(response, "zh-hans")
    assert "<title>页面不存在 · 邻里</title>" in response.content.decode()
    assert page_text(response) == (
        "页面不存在 该页面不存在，或者您无权查看。 请检查网址，或者从首页重新开始。 "
        "返回首页 请求编号： req-1"
    )


def test_the_request_id_is_shown_only_when_there_is_one(db):
    # A request that no middleware has seen (an error raised before the request id is set).
    request = RequestFactory().get("/no-such-page/", **ENGLISH)
    with translation.override("en"):
        response = page_not_found(request, Http404())
    assert response.status_code == 404
    assert "Request ID" not in response.content.decode()
    assert page_text(response).endswith("start again from the home page. Back to the home page")


def test_a_case_outside_the_scope_reads_exactly_like_one_that_does_not_exist(world):
    category = CaseCategory.objects.filter(parent__isnull=False, is_active=True).first()
    far = case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=category,
        building=world.other_community_household.building,
        description="9号楼楼道堆物",
        source=CaseSource.STAFF,
    )
    secretary = Client()
    secretary.force_login(world.users[Role.SECRETARY])
    missing_id = far.pk + 1000

    outside = secretary.get(
        reverse("cases:detail", args=[far.pk]), HTTP_X_REQUEST_ID="first", **CHINESE
    )
    missing = secretary.get(
        reverse("cases:detail", args=[missing_id]), HTTP_X_REQUEST_ID="second", **CHINESE
    )

    assert (outside.status_code, missing.status_code) == (404, 404)
    assert b"first" in outside.content and b"second" in missing.content
    assert outside.content.replace(b"first", b"ID") == missing.content.replace(b"second", b"ID")
    # The same holds for anyone: the street admin sees the far case, and no page for the other.
    street = Client()
    street.force_login(world.users[Role.STREET_ADMIN])
    assert street.get(reverse("cases:detail", args=[far.pk])).status_code == 200


# 403 --------------------------------------------------------------------------------------
def test_forbidden_says_why_when_the_view_gave_a_reason(db):
    english = Client().get("/test-errors/refused-why/", HTTP_X_REQUEST_ID="req-2", **ENGLISH)
    chinese = Client().get("/test-errors/refused-why/", HTTP_X_REQUEST_ID="req-2", **CHINESE)
    assert (english.status_code, chinese.status_code) == (403, 403)
    assert_in_the_site_layout(english, "en")
    assert_in_the_site_layout(chinese, "zh-hans")
    assert page_text(english) == (
        "Not allowed You may not edit the plans of A社区. "
        "If you think you should be able to, ask your community office. Back to the home page "
        "Request ID: req-2"
    )
    assert page_text(chinese) == (
        "无权操作 您无权编辑A社区的预案。 如果您认为应当可以，请联系居委会。 返回首页 "
        "请求编号： req-2"
    )


def test_forbidden_without_a_reason(db):
    english = Client().get("/test-errors/refused/", HTTP_X_REQUEST_ID="req-3", **ENGLISH)
    chinese = Client().get("/test-errors/refused/", HTTP_X_REQUEST_ID="req-3", **CHINESE)
    assert (english.status_code, chinese.status_code) == (403, 403)
    assert page_text(english) == (
        "Not allowed You do not have permission to do this. "
        "If you think you should be able to, ask your community office. Back to the home page "
        "Request ID: req-3"
    )
    assert page_text(chinese) == (
        "无权操作 您无权进行此操作。 如果您认为应当可以，请联系居委会。 返回首页 请求编号： req-3"
    )


# 400 --------------------------------------------------------------------------------------
def test_bad_request_from_a_host_name_not_allowed(db):
    english = Client().get("/", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="req-4", **ENGLISH)
    chinese = Client().get("/", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="req-4", **CHINESE)
    assert (english.status_code, chinese.status_code) == (400, 400)
    assert_in_the_site_layout(english, "en")
    assert_in_the_site_layout(chinese, "zh-hans")
    assert page_text(english) == (
        "Request not understood The page could not make sense of what your browser sent. "
        "Go back and try again. If it keeps happening, tell your community office and give "
        "them the request ID below. Back to the home page Request ID: req-4"
    )
    assert page_text(chinese) == (
        "请求无法处理 无法识别浏览器发来的内容。 请返回后重试。 "
        "如果一直这样，请告诉居委会，并提供下面的请求编号。 返回首页 请求编号： req-4"
    )
    assert b"evil.example" not in english.content


# 500 --------------------------------------------------------------------------------------
def test_server_error_in_both_languages_reveals_nothing(db):
    client = Client(raise_request_exception=False)
    english = client.get("/test-errors/broken/", HTTP_X_REQUEST_ID="req-5", **ENGLISH)
    chinese = client.get("/test-errors/broken/", HTTP_X_REQUEST_ID="req-5", **CHINESE)
    assert (english.status_code, chinese.status_code) == (500, 500)
    assert_in_the_site_layout(english, "en")
    assert_in_the_site_layout(chinese, "zh-hans")
    assert page_text(english) == (
        "Something went wrong The error is on our side, not yours. Try again in a few minutes. "
        "If it keeps happening, tell your community office and give them the request ID below. "
        "Back to the home page Request ID: req-5"
    )
    assert page_text(chinese) == (
        "出错了 这是系统的问题，不是您操作有误。请过几分钟再试。 "
        "如果一直这样，请告诉居委会，并提供下面的请求编号。 返回首页 请求编号： req-5"
    )
    for response in (english, chinese):
        assert INTERNALS.encode() not in response.content
        assert b"RuntimeError" not in response.content
        assert b"Traceback" not in response.content


def test_server_error_without_a_request_id(db):
    # An error raised before the request-id middleware ran: no id, and no sentence about one.
    request = RequestFactory().get("/test-errors/broken/")
    with translation.override("en"):
        response = server_error(request)
    assert response.status_code == 500
    assert page_text(response) == (
        "Something went wrong The error is on our side, not yours. Try again in a few minutes. "
        "If it keeps happening, tell your community office. Back to the home page"
    )


def test_server_error_page_renders_while_the_database_refuses_every_query(world):
    """The database "down": every query the request makes fails, for a logged-in person
    whose menu and emergency banner would need queries. The page still renders."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users[Role.SECRETARY])
    queries = []

    def database_down(execute, sql, params, many, context):
        queries.append(sql)
        raise OperationalError("could not connect to server: Connection refused")

    with connection.execute_wrapper(database_down):
        response = client.get("/test-errors/database/", HTTP_X_REQUEST_ID="req-6", **ENGLISH)

    assert response.status_code == 500
    assert page_text(response).startswith("Something went wrong The error is on our side")
    assert "Request ID: req-6" in page_text(response)
    assert b"Connection refused" not in response.content
    # The view's own query (or the session's) was refused; the error page asked for nothing
    # more than what the request had already tried.
    assert queries, "the view did reach the database"
    assert all("grids_gridunit" in sql or "django_session" in sql for sql in queries)


def test_server_error_falls_back_to_a_bare_page_when_its_template_cannot_render(
    db, settings, tmp_path
):
    # `collectstatic` never ran: the hashed-manifest storage cannot name the stylesheet.
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    response = Client(raise_request_exception=False).get("/test-errors/broken/", **ENGLISH)
    assert response.status_code == 500
    assert response.content.decode() == BARE_500
    assert INTERNALS.encode() not in response.content


# CSRF -------------------------------------------------------------------------------------
def test_a_refused_form_says_what_happened_in_english(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("web:login"),
        {"username": Role.SECRETARY, "password": PASSWORD},
        HTTP_REFERER="http://testserver/login/",
        HTTP_X_REQUEST_ID="req-7",
        **ENGLISH,
    )
    assert response.status_code == 403
    assert_in_the_site_layout(response, "en")
    assert page_text(response) == (
        "The form could not be sent For your safety, a form is only accepted from a page that "
        "was opened recently, in a browser that keeps this site's cookies. This usually means "
        "the page was open for a long time, or your browser blocks cookies for this site. Open "
        "the page again and fill in the form once more. If it keeps happening, allow cookies "
        "for this site. Open the page again Back to the home page Request ID: req-7"
    )
    assert 'href="http://testserver/login/" data-testid="error-back"' in response.content.decode()
    assert b"CSRF cookie not set" not in response.content  # Django's reason stays internal
    assert "_auth_user_id" not in client.session


def test_a_refused_form_says_what_happened_in_chinese(world):
    response = Client(enforce_csrf_checks=True).post(
        reverse("web:login"),
        {"username": Role.SECRETARY, "password": PASSWORD},
        HTTP_REFERER="http://testserver/login/",
        HTTP_X_REQUEST_ID="req-8",
        **CHINESE,
    )
    assert response.status_code == 403
    assert_in_the_site_layout(response, "zh-hans")
    assert page_text(response) == (
        "表单未能提交 为了安全，只接受最近打开、并且浏览器保存了本站 Cookie 的页面提交的表单。 "
        "通常是因为页面打开的时间太长，或者浏览器禁止了本站的 Cookie。 "
        "请重新打开页面，再填写一次。如果一直这样，请允许本站使用 Cookie。 重新打开页面 返回首页 "
        "请求编号： req-8"
    )


def test_a_refused_form_links_back_only_to_this_site(world):
    response = Client(enforce_csrf_checks=True).post(
        reverse("web:login"),
        {"username": Role.SECRETARY, "password": PASSWORD},
        HTTP_REFERER="https://evil.example/login/",
        **ENGLISH,
    )
    assert response.status_code == 403
    assert b"evil.example" not in response.content
    assert b'data-testid="error-back"' not in response.content


# The API answers its errors as JSON -------------------------------------------------------
def test_api_errors_are_json_of_the_api_shape(db):
    # What never reached the API's own handlers: an unknown route, an error outside them.
    client = Client(raise_request_exception=False)
    missing = client.get("/api/v1/no-such-route/", **ENGLISH)
    broken = client.get("/api/test-errors/broken/", HTTP_X_REQUEST_ID="req-9", **ENGLISH)
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/json")
    assert missing.json() == {"message": "Not found.", "field": None}
    assert (broken.status_code, broken["Content-Type"]) == (500, "application/json")
    assert broken.json() == {
        "message": "Server error. Quote the request id req-9 when reporting it.",
        "field": None,
        "request_id": "req-9",
    }
    assert INTERNALS.encode() not in broken.content
