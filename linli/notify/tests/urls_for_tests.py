"""The site's routes plus notify's, as the lead mounts them (used until they are wired in).

The API is a separate NinjaAPI with the site's auth and error handlers, so the answers have
the same shape as under /api/v1.
"""

from django.urls import include, path
from ninja import NinjaAPI

from linli import urls as site_urls
from linli.api import api as site_api
from linli.notify.api import router

test_api = NinjaAPI(urls_namespace="notify-test-api", auth=site_api.auth, docs_url=None)
test_api._exception_handlers.update(site_api._exception_handlers)
test_api.add_router("/notifications", router)

urlpatterns = [
    path("inbox/", include("linli.notify.urls")),
    path("api/test/", test_api.urls),
    *site_urls.urlpatterns,
]
