"""`sync_twilio_numbers`: the account's numbers, matched, imported and reported one by one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.provisioning.conftest import FALLBACK_URL, STATUS_URL, VOICE_URL
from tracking.models import TrackingNumber

RIGHT = {"voice_url": VOICE_URL, "status_callback": STATUS_URL, "voice_fallback_url": FALLBACK_URL}


def sync(*args: str) -> list[str]:
    out = StringIO()
    call_command("sync_twilio_numbers", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def account(fake, campaign):
    """One number of each kind the sync meets."""
    known = fake.own("+15125550100", **RIGHT)
    TrackingNumber.objects.create(
        phone_number="+15125550100", campaign=campaign, twilio_sid=known["sid"]
    )
    by_phone = fake.own("+15125550101", **RIGHT)
    TrackingNumber.objects.create(phone_number="+15125550101", campaign=campaign)
    stray = fake.own("+15125550102", voice_url="https://demo.twil.io/welcome")
    TrackingNumber.objects.create(
        phone_number="+15125550109", campaign=campaign, twilio_sid="PN" + "e" * 32
    )
    return {"by_phone": by_phone, "stray": stray}


@pytest.mark.django_db
def test_sync_reports_each_number_and_imports_into_the_campaign(fake, account, campaign):
    lines = sync("--campaign", str(campaign.pk))

    assert lines[:4] == [
        "+15125550100: unchanged",
        "+15125550101: linked sid",
        "+15125550102: created (webhooks differ, run with --repoint: Voice URL is POST "
        "https://demo.twil.io/welcome; Status Callback is POST (empty); Voice Fallback URL is "
        "POST (empty))",
        f"+15125550109: missing (PN{'e' * 32} is not on the Twilio account)",
    ]
    assert lines[4] == "4 numbers: 1 created, 1 linked sid, 1 missing, 1 unchanged."
    assert (
        TrackingNumber.objects.get(phone_number="+15125550101").twilio_sid
        == (account["by_phone"]["sid"])
    )
    created = TrackingNumber.objects.get(phone_number="+15125550102")
    assert (created.campaign, created.twilio_sid) == (campaign, account["stray"]["sid"])
    assert fake.received("POST") == []


@pytest.mark.django_db
def test_sync_with_repoint_fixes_the_webhooks_it_reports(fake, account, campaign):
    lines = sync("--campaign", campaign.name, "--repoint")

    assert lines[2].startswith("+15125550102: created, re-pointed (Voice URL is POST")
    [update] = fake.received("POST")
    assert update.path.endswith(f"/{account['stray']['sid']}.json")
    assert fake.owned[account["stray"]["sid"]]["voice_url"] == VOICE_URL


@pytest.mark.django_db
def test_without_a_campaign_unknown_numbers_are_skipped(fake, account):
    lines = sync()

    assert "+15125550102: skipped (not tracked; no --campaign)" in lines
    assert not TrackingNumber.objects.filter(phone_number="+15125550102").exists()


@pytest.mark.django_db
def test_dry_run_reports_the_same_and_writes_nothing(fake, account, campaign):
    before = list(TrackingNumber.objects.values_list("phone_number", "twilio_sid"))

    lines = sync("--campaign", str(campaign.pk), "--repoint", "--dry-run")

    assert lines[0] == "Dry run: nothing was changed, here or on Twilio."
    assert lines[2] == "+15125550101: linked sid"
    assert lines[3].startswith("+15125550102: created, re-pointed")
    assert list(TrackingNumber.objects.values_list("phone_number", "twilio_sid")) == before
    assert fake.received("POST") == []


@pytest.mark.django_db
def test_sync_reads_every_page_of_the_account(fake, campaign):
    # One more than the page size the app asks for: the second page comes from Twilio's
    # absolute next-page link, which must reach the fake too.
    for last in range(1002):
        fake.own(f"+1737555{last:04d}", **RIGHT)

    lines = sync("--campaign", str(campaign.pk))

    assert lines[-1] == "1002 numbers: 1002 created."
    pages = fake.received("GET", "/IncomingPhoneNumbers.json")
    assert [p.query.get("Page", "0") for p in pages] == ["0", "1"]
    assert TrackingNumber.objects.count() == 1002


@pytest.mark.django_db
def test_sync_explains_missing_credentials(fake, settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(CommandError, match="TWILIO_ACCOUNT_SID not set"):
        sync()

    assert fake.requests == []


@pytest.mark.django_db
def test_sync_reports_an_unknown_campaign(fake):
    with pytest.raises(CommandError, match="No campaign with id or name “Nope”"):
        sync("--campaign", "Nope")
