"""Caller ID attestation (StirVerstat): recorded on every call, matched by its prefix."""

from __future__ import annotations

import pytest

from tests.screening.conftest import challenge_digit
from tests.twilio_signing import ACCOUNT_SID
from tests.whisper.steps import CALLER, TRACKING, incoming
from tracking.models import Call
from tracking.screening import attestation, attestation_label


@pytest.mark.parametrize(
    ("verstat", "level"),
    [
        ("TN-Validation-Passed-A", "passed"),
        ("TN-Validation-Passed-C-Diverted", "passed"),
        ("TN-Validation-Passed-B-Passthrough", "passed"),
        ("TN-Validation-Failed-A", "failed"),
        ("TN-Validation-Failed", "failed"),
        ("TN-Validation-Failed-B-Passthrough", "failed"),
        ("No-TN-Validation", ""),
        ("No-TN-Validation-Diverted", ""),
        ("", ""),
        ("something-new", ""),
    ],
)
def test_attestation_is_read_by_its_prefix(verstat, level):
    assert attestation(verstat) == level


def test_attestation_labels_say_what_it_means():
    assert attestation_label("TN-Validation-Passed-A") == "Verified (A)"
    assert attestation_label("TN-Validation-Failed-B") == "Failed verification"
    assert attestation_label("No-TN-Validation") == "Not verified"
    assert attestation_label("") == "No attestation"


@pytest.mark.django_db
def test_every_call_records_its_attestation(twilio, number):
    incoming(twilio, sid="CA1", StirVerstat="TN-Validation-Passed-B")
    incoming(twilio, sid="CA2")

    rows = dict(Call.objects.values_list("call_sid", "stir_verstat"))
    assert rows == {"CA1": "TN-Validation-Passed-B", "CA2": ""}


def _params(**extra):
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": "CA100",
        "From": CALLER,
        "To": TRACKING,
        "FromCountry": "US",
        **extra,
    }


@pytest.mark.django_db
def test_the_signature_validates_with_stirverstat_signed(twilio, number):
    params = _params(StirVerstat="TN-Validation-Passed-A")
    response = twilio.post("/twilio/voice/", params)

    assert response.status_code == 200
    assert Call.objects.get().stir_verstat == "TN-Validation-Passed-A"


@pytest.mark.django_db
def test_the_signature_validates_when_stirverstat_was_added_after_signing(twilio, number):
    # Reported (unconfirmed) of Twilio: StirVerstat is added after the request is signed.
    params = _params(StirVerstat="TN-Validation-Passed-A")
    signature = twilio.signature("http://testserver/twilio/voice/", _params())

    response = twilio.post("/twilio/voice/", params, signature=signature)

    assert response.status_code == 200
    assert Call.objects.get().stir_verstat == "TN-Validation-Passed-A"


@pytest.mark.django_db
def test_the_signature_validates_without_stirverstat(twilio, number):
    assert twilio.post("/twilio/voice/", _params()).status_code == 200


@pytest.mark.django_db
def test_any_other_parameter_added_after_signing_is_refused(twilio, number):
    signature = twilio.signature(
        "http://testserver/twilio/voice/", _params(StirVerstat="TN-Validation-Passed-A")
    )
    tampered = _params(StirVerstat="TN-Validation-Passed-A", FromCountry="CA")

    response = twilio.post("/twilio/voice/", tampered, signature=signature)

    assert response.status_code == 403
    assert Call.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "verstat", "challenged"),
    [
        ("", "TN-Validation-Failed-A", False),
        ("failed", "TN-Validation-Failed-A", True),
        ("failed", "No-TN-Validation", False),
        ("failed", "", False),
        ("failed", "TN-Validation-Passed-C", False),
        ("unverified", "No-TN-Validation", True),
        ("unverified", "", True),
        ("unverified", "TN-Validation-Failed", True),
        ("unverified", "TN-Validation-Passed-C-Diverted", False),
    ],
)
def test_the_campaign_chooses_which_attestations_are_challenged(
    twilio, number, rule, verstat, challenged
):
    number.campaign.challenge_attestation = rule
    number.campaign.save()

    response = incoming(twilio, **({"StirVerstat": verstat} if verstat else {}))

    if challenged:
        assert [el.tag for el in response] == ["Gather", "Hangup"]
        assert challenge_digit(response) in "123456789"
        assert Call.objects.get().screening_reason.startswith("caller ID")
    else:
        assert [el.tag for el in response] == ["Dial"]
        assert Call.objects.get().screening_reason == ""
