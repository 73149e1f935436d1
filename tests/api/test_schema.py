from __future__ import annotations

import pytest
import yaml
from django.test import Client

pytestmark = pytest.mark.django_db


def test_schema_describes_every_endpoint_and_the_token(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/calls/",
        "/api/v1/calls/{call_sid}/",
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{id}/",
        "/api/v1/numbers/",
        "/api/v1/numbers/{id}/",
        "/api/v1/reports/",
        "/api/v1/recordings/{recording_sid}/audio/",
        "/api/v1/sources/",
        "/api/v1/sources/{id}/",
    }
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    filters = {p["name"] for p in schema["paths"]["/api/v1/calls/"]["get"]["parameters"]}
    assert {"start", "end", "campaign", "number", "outcome", "caller_number"} <= filters
    assert {"source", "first_time_caller", "updated_since", "cursor", "page_size"} <= filters


def test_schema_needs_a_token_or_a_staff_session(db, marketer):
    assert Client().get("/api/v1/schema/").status_code == 401
    client = Client()
    client.force_login(marketer)
    assert client.get("/api/v1/schema/").status_code == 200


def test_docs_page_for_signed_in_staff(db, marketer):
    assert Client().get("/api/v1/docs/")["Location"].startswith("/admin/login/")
    client = Client()
    client.force_login(marketer)

    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    # Served from this site (drf-spectacular-sidecar), not from a CDN.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "/api/v1/schema/" in page


def test_schema_is_valid_openapi_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    # Fails on any warning drf-spectacular raises (an undocumented field, a filter it cannot
    # type), and validates the result against the OpenAPI 3 specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert yaml.safe_load(out.read_text())["info"]["title"] == "Call Tracking API"
