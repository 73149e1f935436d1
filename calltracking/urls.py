from django.contrib import admin
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from attribution import demo
from signin.forms import ThrottledAdminLoginForm

admin.site.login_form = ThrottledAdminLoginForm


def healthz(request):
    """For load balancers and process managers: the process answers. No database involved, so
    an outage of the database does not take the webhooks out of rotation."""
    return HttpResponse("ok", content_type="text/plain")


def favicon(request):
    """Browsers ask for /favicon.ico on their own, whatever the page links to."""
    return HttpResponsePermanentRedirect(static("tracking/favicon.svg"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("twilio/", include("whisper.urls")),
    path("api/", include("api.urls")),
    path("dni/", include("attribution.urls")),
    path("demo/site/", demo.site, name="demo-site"),
]
