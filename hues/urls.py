"""The project's URLs: the composition root, which alone may name every app."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView

from accounts.admin import AdminLoginForm
from hues.city import city_text
from hues.metrics import metrics_view
from hues.views import RedocDocsView, SwaggerDocsView, health, live, ready
from reports.media import photo_file

admin.site.site_header = city_text(_("%(app)s administration"))
admin.site.site_title = city_text("%(app)s")
admin.site.index_title = _("Citizen reports")
# Staff work in wide lists all day: no navigation sidebar taking a third of the screen.
admin.site.enable_nav_sidebar = False
# Its sign-in within the login limits per account (accounts.login_limits), saying so.
admin.site.login_form = AdminLoginForm

api_v1: list[URLPattern | URLResolver] = [
    path("health", health, name="health"),
    path("", include("accounts.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("insights.api.urls")),
    path("", include("alerts.api.urls")),
]

handler404 = "hues.api_errors.page_not_found"
handler500 = "hues.api_errors.server_error"

# For load balancers and Prometheus: answered before the host check and the session, auth
# and language middleware (hues.middleware.ProbeMiddleware).
operations: list[URLPattern | URLResolver] = [
    path("health/live", live, name="health-live"),
    path("health/ready", ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
]

urlpatterns = [
    *operations,
    path("api/v1/", include(api_v1)),
    path("open311/v2/", include("open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocDocsView.as_view(url_name="schema"), name="api-redoc"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# Photos: only through their signed URLs, checked by Django (reports.media), in every mode.
if settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(
        path(f"{settings.MEDIA_URL.lstrip('/')}<path:name>", photo_file, name="photo-file")
    )
