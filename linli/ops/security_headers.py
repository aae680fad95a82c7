"""Headers that every answer carries: a Content-Security-Policy, and no-store on personal data.

The policy lets a page run only the site's own script files (no inline script, no eval, no
`on…=` attributes, no `javascript:` URLs), so that a name that slips into HTML unescaped
still cannot run (issue 13). Styles: the site's own style sheets only, and no `<style>`
element may be added (htmx's indicator rule lives in linli.css, see the htmx-config meta in
web/base.html); style *attributes* are allowed (`style-src-attr 'unsafe-inline'`), because
templates, ECharts' tooltips and Swagger UI set them and they cannot run script. Images:
the site, `data:` (the empty favicon, Swagger UI's icons) and the map tile server when one is
configured (LINLI_MAP_TILE_URL).

Personal data must not stay in a browser's or a proxy's cache: every answer to a request
that carries credentials (a session, a bearer token), and every API and Open311 answer, is
sent with `Cache-Control: no-store` (and `Pragma: no-cache` for old proxies); a view that
already says no-store keeps its own words. Static files are public and cached as WhiteNoise
says; they are served before this middleware runs.
"""

from urllib.parse import urlsplit

from django.conf import settings

# Paths whose every answer may carry personal data, signed in or not (bearer tokens, keys).
NO_STORE_PREFIXES = ("/api/", "/open311/")


def tile_source(url_template: str) -> str | None:
    """The CSP source expression that allows a Leaflet tile URL template, or None.

    `https://{s}.tile.example.org/{z}/{x}/{y}.png` → `https://*.tile.example.org`: Leaflet
    puts a subdomain letter where `{s}` stands, so a placeholder in the host becomes a
    wildcard for that label."""
    if not url_template:
        return None
    parts = urlsplit(url_template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    labels = ["*" if "{" in label else label for label in parts.netloc.split(".")]
    # A wildcard is only valid as the leftmost label.
    if "*" in labels[1:]:
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{'.'.join(labels)}"


def content_security_policy() -> str:
    images = ["'self'", "data:"]
    tiles = tile_source(getattr(settings, "LINLI_MAP_TILE_URL", ""))
    if tiles:
        images.append(tiles)
    directives = [
        ("default-src", "'self'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("style-src-elem", "'self'"),
        ("style-src-attr", "'unsafe-inline'"),
        ("img-src", " ".join(images)),
        ("font-src", "'self'"),
        ("connect-src", "'self'"),
        ("object-src", "'none'"),
        ("base-uri", "'self'"),
        ("frame-ancestors", "'none'"),
        ("form-action", "'self'"),
    ]
    return "; ".join(f"{name} {value}" for name, value in directives)


def carries_personal_data(request, response) -> bool:
    """Whether the answer may hold personal data: it answers credentials (a session cookie,
    or one set by this very answer, as at sign-in; an Authorization header), or it comes
    from the API or Open311. Decided from the request's cookies and headers, never by
    loading the session or the user (a probe of /healthz costs no query)."""
    if request.path.startswith(settings.STATIC_URL):
        return False
    if request.path.startswith(NO_STORE_PREFIXES) or "HTTP_AUTHORIZATION" in request.META:
        return True
    session_cookie = settings.SESSION_COOKIE_NAME
    return session_cookie in request.COOKIES or session_cookie in response.cookies


class SecurityHeadersMiddleware:
    """Before SessionMiddleware in MIDDLEWARE: it sees the session cookie a sign-in sets."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers["Content-Security-Policy"] = content_security_policy()
        if carries_personal_data(request, response):
            # A view's own no-store (never_cache: "max-age=0, no-cache, no-store, …") stays.
            directives = response.headers.get("Cache-Control", "").split(",")
            if "no-store" not in {directive.strip().lower() for directive in directives}:
                response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
