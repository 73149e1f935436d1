"""Releasing numbers (their history stays) and pointing wrong webhooks back at the app."""

from __future__ import annotations

import pytest

from tests.provisioning.conftest import FALLBACK_URL, STATUS_URL, VOICE_URL
from tracking import provisioning
from tracking.models import Call, TrackingNumber

RIGHT = {
    "voice_url": VOICE_URL,
    "status_callback": STATUS_URL,
    "voice_fallback_url": FALLBACK_URL,
}


def _tracked(fake, phone_number: str, campaign, **remote) -> TrackingNumber:
    record = fake.own(phone_number, **remote)
    return TrackingNumber.objects.create(
        phone_number=phone_number, campaign=campaign, twilio_sid=record["sid"]
    )


@pytest.mark.django_db
def test_release_deletes_on_twilio_and_keeps_the_row_and_its_calls(fake, campaign):
    number = _tracked(fake, "+15125550100", campaign, **RIGHT)
    sid = number.twilio_sid
    Call.objects.create(call_sid="CA1", tracking_number=number, campaign=campaign)

    provisioning.number_release(number=number)

    [delete] = fake.received("DELETE")
    assert delete.path.endswith(f"/IncomingPhoneNumbers/{sid}.json")
    assert sid not in fake.owned
    number.refresh_from_db()
    assert (number.is_active, number.twilio_sid) == (False, "")
    assert Call.objects.get().tracking_number == number


@pytest.mark.django_db
def test_releasing_a_number_twilio_no_longer_has_still_marks_it_released(fake, campaign):
    number = TrackingNumber.objects.create(
        phone_number="+15125550100", campaign=campaign, twilio_sid="PN" + "9" * 32
    )

    provisioning.number_release(number=number)

    assert len(fake.received("DELETE")) == 1
    number.refresh_from_db()
    assert not number.is_active


@pytest.mark.django_db
def test_a_failed_release_changes_nothing_locally(fake, campaign):
    number = _tracked(fake, "+15125550100", campaign, **RIGHT)
    fake.fail_next(401, 20003, "Authenticate", method="DELETE")

    with pytest.raises(provisioning.ProvisioningError, match="refused the account credentials"):
        provisioning.number_release(number=number)

    number.refresh_from_db()
    assert number.is_active and number.twilio_sid


@pytest.mark.django_db
def test_repoint_fixes_only_the_numbers_that_are_wrong(fake, campaign, cnam_campaign):
    right = _tracked(fake, "+15125550100", campaign, **RIGHT)
    wrong_url = _tracked(
        fake, "+15125550101", campaign, **{**RIGHT, "voice_url": "https://old.example.com/v"}
    )
    wrong_lookup = _tracked(fake, "+15125550102", cnam_campaign, **RIGHT)
    app = _tracked(fake, "+15125550103", campaign, **RIGHT, voice_application_sid="AP" + "1" * 32)
    unknown = TrackingNumber.objects.create(phone_number="+15125550104", campaign=campaign)

    changes = provisioning.numbers_repoint(numbers=[right, wrong_url, wrong_lookup, app, unknown])

    assert [(c.phone_number, c.action) for c in changes] == [
        ("+15125550100", "unchanged"),
        ("+15125550101", "re-pointed"),
        ("+15125550102", "re-pointed"),
        ("+15125550103", "re-pointed"),
        ("+15125550104", "skipped"),
    ]
    assert "Voice URL is POST https://old.example.com/v" in changes[1].detail
    assert "caller-name lookup is off" in changes[2].detail
    updated = {r.path.rsplit("/", 1)[-1][:-5]: r.form for r in fake.received("POST")}
    assert set(updated) == {wrong_url.twilio_sid, wrong_lookup.twilio_sid, app.twilio_sid}
    for form in updated.values():
        assert form["VoiceUrl"] == VOICE_URL
        assert form["StatusCallback"] == STATUS_URL
        assert form["VoiceFallbackUrl"] == FALLBACK_URL
        assert form["VoiceApplicationSid"] == ""
    assert updated[wrong_lookup.twilio_sid]["VoiceCallerIdLookup"] == "true"
    assert fake.owned[app.twilio_sid]["voice_application_sid"] == ""
