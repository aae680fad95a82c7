"""Secure cookies for a request that came over https, when the settings do not demand it.

With LINLI_HTTPS off (a trial over plain http on the office LAN) the session, CSRF and
language cookies are not marked Secure, or a browser on another machine would drop them and
every form would fail its CSRF check. The same server may also be reached through a TLS
proxy (SECURE_PROXY_SSL_HEADER, see LINLI_TRUSTED_PROXY): a response to such a request marks
those cookies Secure, so that they never travel back over plain http.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _cookie_names() -> tuple[str, ...]:
    return (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME)


class SecureCookiesOverHttpsMiddleware:
    """Sits outside the session, CSRF and locale middleware, so it sees the cookies they
    (and the language switch) set on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for name in _cookie_names():
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response
