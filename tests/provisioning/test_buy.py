"""Buying a number: one Twilio request that buys and points it, then one local row."""

from __future__ import annotations

import pytest

from tests.provisioning.conftest import FALLBACK_URL, STATUS_URL, VOICE_URL
from tests.twilio_signing import ACCOUNT_SID, AUTH_TOKEN
from tracking import provisioning
from tracking.models import TrackingNumber

NUMBER = "+15125550142"


@pytest.mark.django_db
def test_buy_configures_the_exact_webhooks_and_stores_the_sid(fake, cnam_campaign):
    fake.offer(NUMBER)

    number = provisioning.number_buy(phone_number=NUMBER, campaign=cnam_campaign)

    [create] = fake.received("POST", "/IncomingPhoneNumbers.json")
    assert create.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
    assert create.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert create.form == {
        "PhoneNumber": NUMBER,
        "VoiceUrl": VOICE_URL,
        "VoiceMethod": "POST",
        "StatusCallback": STATUS_URL,
        "StatusCallbackMethod": "POST",
        "VoiceFallbackUrl": FALLBACK_URL,
        "VoiceFallbackMethod": "POST",
        "VoiceCallerIdLookup": "true",
        "VoiceApplicationSid": "",
    }
    [sid] = fake.owned
    row = TrackingNumber.objects.get()
    assert (row.pk, row.phone_number, row.twilio_sid, row.campaign) == (
        number.pk,
        NUMBER,
        sid,
        cnam_campaign,
    )
    assert row.is_active


@pytest.mark.django_db
def test_caller_name_lookup_follows_the_campaign(fake, campaign):
    fake.offer(NUMBER)

    provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert fake.received("POST")[0].form["VoiceCallerIdLookup"] == "false"


@pytest.mark.django_db
def test_a_number_no_longer_available_leaves_no_row(fake, campaign):
    # Not offered: the fake answers 400 with code 21422, as Twilio does.
    with pytest.raises(provisioning.ProvisioningError, match="no longer available"):
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert len(fake.received("POST")) == 1
    assert not TrackingNumber.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, 20003, "refused the account credentials"),
        (400, 21404, "limit on the account"),
        (429, 20429, "limit on the account"),
        (400, 21452, "no longer available"),
    ],
)
def test_twilio_errors_are_told_in_plain_words_and_leave_no_row(
    fake, campaign, status, code, words
):
    fake.offer(NUMBER)
    fake.fail_next(status, code, "Twilio's own wording", method="POST")

    with pytest.raises(provisioning.ProvisioningError, match=words):
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert not TrackingNumber.objects.exists()
    assert not fake.owned


@pytest.mark.django_db
def test_wrong_credentials_are_reported_as_such(fake, campaign, settings):
    fake.offer(NUMBER)
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    with pytest.raises(provisioning.ProvisioningError) as raised:
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in raised.value.message
    assert fake.received()[0].auth == (ACCOUNT_SID, "not-the-token")
    assert not TrackingNumber.objects.exists()


@pytest.mark.django_db
def test_twilio_unreachable_says_so_and_how_to_recover(fake_server, campaign):
    fake_server.stop()

    with pytest.raises(provisioning.ProvisioningError) as raised:
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert "Could not reach Twilio" in raised.value.message
    assert f"sync_twilio_numbers --campaign {campaign.pk}" in raised.value.message
    assert not TrackingNumber.objects.exists()


@pytest.mark.django_db
def test_a_failed_local_save_releases_the_number_just_bought(fake, campaign):
    # Another row already holds the SID Twilio is about to give: the insert violates the
    # unique SID constraint after Twilio has sold the number.
    TrackingNumber.objects.create(
        phone_number="+15125550111", campaign=campaign, twilio_sid="PN" + "f" * 32
    )
    fake.next_sids.append("PN" + "f" * 32)
    fake.offer(NUMBER)

    with pytest.raises(provisioning.ProvisioningError, match="released on Twilio again"):
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests] == [
        ("POST", "IncomingPhoneNumbers.json"),
        ("DELETE", "PN" + "f" * 32 + ".json"),
    ]
    assert not fake.owned
    assert list(TrackingNumber.objects.values_list("phone_number", flat=True)) == ["+15125550111"]


@pytest.mark.django_db
def test_when_the_release_after_a_failed_save_fails_too_it_says_how_to_import_it(fake, campaign):
    TrackingNumber.objects.create(
        phone_number="+15125550111", campaign=campaign, twilio_sid="PN" + "f" * 32
    )
    fake.next_sids.append("PN" + "f" * 32)
    fake.offer(NUMBER)
    fake.fail_next(500, 20500, "Internal Server Error", method="DELETE")

    with pytest.raises(provisioning.ProvisioningError) as raised:
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert "releasing it failed too" in raised.value.message
    assert f"sync_twilio_numbers --campaign {campaign.pk}" in raised.value.message
    assert list(fake.owned) == ["PN" + "f" * 32]


@pytest.mark.django_db
def test_a_number_already_tracked_is_not_bought_twice(fake, number):
    number.twilio_sid = "PN" + "1" * 32
    number.save()
    fake.offer(number.phone_number)

    with pytest.raises(provisioning.ProvisioningError, match="already on the account"):
        provisioning.number_buy(phone_number=number.phone_number, campaign=number.campaign)

    assert fake.requests == []


@pytest.mark.django_db
def test_buying_a_released_number_again_reuses_its_row_and_history(fake, number, campaign):
    number.is_active = False
    number.save()
    fake.offer(number.phone_number)

    bought = provisioning.number_buy(phone_number="(512) 555-0100", campaign=campaign)

    assert bought.pk == number.pk
    number.refresh_from_db()
    assert number.is_active and number.twilio_sid.startswith("PN")
    assert fake.received("POST")[0].form["PhoneNumber"] == "+15125550100"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("missing", "words"),
    [
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN not set"),
        ("TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID not set"),
        ("PUBLIC_BASE_URL", "Set PUBLIC_BASE_URL"),
    ],
)
def test_missing_settings_are_explained_before_any_request(
    fake, campaign, settings, missing, words
):
    setattr(settings, missing, "")

    with pytest.raises(provisioning.ProvisioningError, match=words):
        provisioning.number_buy(phone_number=NUMBER, campaign=campaign)

    assert fake.requests == []


@pytest.mark.django_db
def test_search_asks_for_voice_numbers_and_hides_numbers_already_tracked(fake, number):
    fake.offer("+15125550100")
    fake.offer("+15125550142")
    fake.offer("+18005550199", kind="TollFree")

    local = provisioning.numbers_search(country="US", kind="local", area_code="512")
    toll_free = provisioning.numbers_search(country="US", kind="toll_free", contains="555")

    assert [n.phone_number for n in local] == ["+15125550142"]
    assert [n.phone_number for n in toll_free] == ["+18005550199"]
    search = fake.received("GET", "/Local.json")[0]
    assert search.path.endswith("/AvailablePhoneNumbers/US/Local.json")
    assert search.query["AreaCode"] == "512"
    assert search.query["VoiceEnabled"] == "true"
    assert fake.received("GET", "/TollFree.json")[0].query["Contains"] == "555"
