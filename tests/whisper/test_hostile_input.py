"""Whatever Twilio (or anyone holding the token) sends, the answer is valid TwiML or a 204."""

from __future__ import annotations

import pytest

from tests.twilio_signing import WEBHOOKS, twiml
from tests.whisper.steps import answered, incoming
from tracking.models import Call

HOSTILE = {
    "empty": {},
    "only a sid": {"CallSid": "CA100"},
    "huge values": {
        "CallSid": "CA" + "9" * 5000,
        "From": "+1" + "5" * 5000,
        "To": "x" * 10000,
        "FromCity": "A" * 100000,
        "CallerName": "B" * 5000,
        "Digits": "1" * 5000,
        "DialCallDuration": "9" * 400,
        "CallDuration": "9" * 400,
    },
    "non-ascii": {
        "CallSid": "CA100",
        "From": "+١٢٣٤٥",
        "FromCity": "São Paulo 東京 🚀",
        "CallerName": "Zoë Ñúñez",
        "Digits": "١",
    },
    "markup": {
        "CallSid": "CA100",
        "CallerName": "<Say>pwned</Say>&amp;<![CDATA[x]]>",
        "FromCity": "</Say><Dial>+19005551234</Dial>",
        "Digits": "<",
    },
    "control characters": {
        "CallSid": "CA\x00100",
        "From": "\x00\x01\x02",
        "FromCity": "Aus\x00tin",
        "CallStatus": "completed\x00",
    },
    "nonsense numbers": {
        "CallSid": "CA100",
        "DialCallDuration": "-5",
        "CallDuration": "1e9",
        "DialBridged": "maybe",
        "Timestamp": "yesterday-ish",
        "DialCallStatus": "exploded",
        "CallStatus": "completed",
        "SequenceNumber": "NaN",
    },
}


def _assert_valid_answer(response):
    assert response.status_code in (200, 204), response.content[:300]
    if response.status_code == 200:
        twiml(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("params", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_never_breaks_a_webhook_on_a_fresh_number(twilio, number, path, params):
    _assert_valid_answer(twilio.post(path, params))


@pytest.mark.django_db
@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("params", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_never_breaks_a_webhook_during_a_call(twilio, number, path, params):
    answered(twilio, incoming(twilio))

    _assert_valid_answer(twilio.post(path, params))

    assert Call.objects.count() <= 2


@pytest.mark.django_db
def test_markup_in_caller_data_is_stored_as_given_and_spoken_as_text(twilio, number):
    whisper = answered(
        twilio,
        incoming(twilio, CallerName="<b>Eve</b> & co", FromCity="</Say><Hangup/>", FromState=""),
    )

    call = Call.objects.get()
    assert call.caller_name == "<b>Eve</b> & co"
    assert call.caller_city == "</Say><Hangup/>"
    assert [el.tag for el in whisper] == ["Gather", "Hangup"]
    assert "</Say><Hangup/>" in whisper.find("Gather/Say").text


@pytest.mark.django_db
def test_oversized_values_are_cut_to_fit_their_columns(twilio, number):
    incoming(twilio, FromCity="Ä" * 300, CallerName="N" * 300)

    call = Call.objects.get()
    assert call.caller_city == "Ä" * 100
    assert call.caller_name == "N" * 100
