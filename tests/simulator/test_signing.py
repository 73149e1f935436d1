"""The simulator signs as Twilio does, so the app's signature check is exercised, not bypassed."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from tests.twilio_signing import AUTH_TOKEN
from tracking.models import Call
from whisper.simulator import DjangoClientTransport, SimulationError, Simulator


@pytest.mark.django_db
def test_every_request_carries_twilios_signature_for_the_url_requested(number, austin_call):
    seen = []

    class Recording(DjangoClientTransport):
        def post(self, url, params, signature):
            seen.append((url, params, signature))
            return super().post(url, params, signature)

    simulator = Simulator(transport=Recording(), token=AUTH_TOKEN, base_url="http://testserver")
    simulator.run(austin_call())

    validator = RequestValidator(AUTH_TOKEN)
    assert len(seen) == 6  # incoming, whisper, key, leg status, dial action, status
    assert all(validator.validate(url, params, signature) for url, params, signature in seen)
    assert seen[1][0].startswith("http://testserver/twilio/voice/whisper/?call=")
    assert seen[1][1]["ParentCallSid"] == seen[0][1]["CallSid"]


@pytest.mark.django_db
def test_a_token_the_app_does_not_share_is_refused_before_anything_is_logged(number, austin_call):
    simulator = Simulator(
        transport=DjangoClientTransport(), token="not-the-apps-token", base_url="http://testserver"
    )

    with pytest.raises(SimulationError, match="403"):
        simulator.run(austin_call())

    assert not Call.objects.exists()
