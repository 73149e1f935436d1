"""The call log's retention: uploads hold nothing about the caller and follow their call."""

from __future__ import annotations

import pytest

from conversions.models import Upload
from tests.conversions.conftest import lead_call
from tracking import privacy

pytestmark = pytest.mark.django_db


def test_an_anonymised_call_keeps_its_uploads_and_a_deleted_one_takes_them(leads_campaign):
    kept = lead_call(leads_campaign, gclid="a")
    gone = lead_call(leads_campaign, gclid="b")
    for call in (kept, gone):
        Upload.objects.create(
            call=call, destination=Upload.Destination.GOOGLE_ADS, status=Upload.Status.SENT
        )

    privacy.calls_anonymise(call_sids=[kept.call_sid])
    privacy.calls_delete(call_sids=[gone.call_sid])

    [upload] = Upload.objects.all()
    assert upload.call_id.startswith(privacy.ANONYMISED_PREFIX)
    assert upload.call.pk == kept.pk
