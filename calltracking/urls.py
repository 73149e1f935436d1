from django.contrib import admin
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from attribution import demo
from signin.forms import ThrottledAdminLoginForm
from whisper import console

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
    # The agent console: its page behind the admin's sign-in, its JSON endpoints 403 to others.
    path(
        "admin/agent-console/",
        admin.site.admin_view(console.console_page),
        name="agent-console",
    ),
    path("admin/agent-console/token/", console.token, name="agent-console-token"),
    path(
        "admin/agent-console/availability/",
        console.availability,
        name="agent-console-availability",
    ),
    path("admin/agent-console/calls/<str:sid>/", console.call_details, name="agent-console-call"),
    path("admin/", admin.site.urls),
    path("twilio/", include("whisper.urls")),
    path("api/", include("api.urls")),
    path("dni/", include("attribution.urls")),
    path("demo/site/", demo.site, name="demo-site"),
]
