"""The campaign form says one thing per mistake, and shows whole what people type."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.admin.forms import campaign_form
from tests.admin.html import parse
from tracking.models import Campaign

ADD = reverse("admin:tracking_campaign_add")
DESK = [{"label": "Desk", "phone_number": "+15125550199"}]


def errors(response) -> list[str]:
    assert response.status_code == 200, "expected the form back with errors"
    return parse(response.content).by_class.get("errorlist", [])


@pytest.mark.parametrize("value", ["-5", "0", "4", "601", "ten"])
def test_a_ring_timeout_out_of_range_gets_the_one_message_of_its_help_text(admin_client, value):
    response = admin_client.post(ADD, campaign_form(destinations=DESK, ring_timeout=value))

    assert errors(response) == ["Enter a number of seconds from 5 to 600."]
    assert not Campaign.objects.exists()


def test_a_name_too_long_is_refused_with_its_length_not_cut(admin_client):
    page = admin_client.get(ADD).content.decode()
    response = admin_client.post(ADD, campaign_form(destinations=DESK, name="N" * 10_000))

    # No maxlength on the box, so the browser cannot cut a pasted name without a word.
    assert 'maxlength="120"' not in page.split('id="id_name"', 1)[0].rsplit("<input", 1)[-1]
    assert "at most 120 characters (it has 10000)" in " ".join(errors(response))
    assert not Campaign.objects.exists()


def test_messages_are_text_areas_and_the_time_zone_is_searchable(admin_client):
    page = admin_client.get(ADD).content.decode()

    for name in ("whisper_template", "missed_message", "voicemail_greeting", "recording_notice"):
        assert f'<textarea name="{name}"' in page, name
    assert '<input type="text" name="time_zone" value="America/Chicago"' in page
    assert page.count("<option value=") > 400  # every zone, suggested as one types


def test_a_time_zone_typed_wrong_is_refused(admin_client):
    response = admin_client.post(ADD, campaign_form(destinations=DESK, time_zone="America/Chicag"))
    assert "“America/Chicag” is not a time zone" in " ".join(errors(response))


def test_its_labels_read_as_sentences(admin_client, campaign):
    page = admin_client.get(reverse("admin:tracking_campaign_change", args=[campaign.pk]))
    html = page.content.decode()
    # "Add another Day's hours", not the plural "Add another Opening hours".
    assert "Add another Day" in html
    assert "Add another Opening hours" not in html
    # The campaign links to its calls and its report.
    assert f"?campaign__id__exact={campaign.pk}" in html
    assert f"campaign={campaign.pk}" in html
