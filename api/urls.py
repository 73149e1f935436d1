from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.routers import SimpleRouter

from api.authentication import TokenAuthentication
from api.calls import CallViewSet
from api.campaigns import CampaignViewSet, NumberViewSet, SourceViewSet
from api.recordings import RecordingAudioView
from api.reports import ReportView

router = SimpleRouter()
router.register("calls", CallViewSet, basename="call")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("numbers", NumberViewSet, basename="number")
router.register("sources", SourceViewSet, basename="source")

# The schema describes the API, not its data: staff signed in to the admin may read it too,
# and the docs page is for them.
schema = SpectacularAPIView.as_view(
    authentication_classes=[TokenAuthentication, SessionAuthentication],
    permission_classes=[IsAdminUser],
)
docs = staff_member_required(
    SpectacularSwaggerView.as_view(
        url_name="api:schema",
        authentication_classes=[SessionAuthentication],
        permission_classes=[IsAdminUser],
    ),
    login_url="admin:login",
)

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/reports/", ReportView.as_view(), name="reports"),
    re_path(
        r"^v1/recordings/(?P<recording_sid>[A-Za-z0-9]{1,64})/audio/$",
        RecordingAudioView.as_view(),
        name="recording-audio",
    ),
    path("v1/schema/", schema, name="schema"),
    path("v1/docs/", docs, name="docs"),
]
