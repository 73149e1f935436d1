from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.twilio_signing import TwilioPoster, path_of, twiml


def challenge_digit(response: ET.Element) -> str:
    """The digit the challenge asks for, as the caller hears it."""
    words = response.find("Gather/Say").text
    return re.fullmatch(r"To be connected, press (\d)\.", words).group(1)


def answer_challenge(
    twilio: TwilioPoster, response: ET.Element, digits: str, sid: str = "CA100"
) -> ET.Element:
    """The caller presses `digits` ("" for silence) at the challenge."""
    action = response.find("Gather").get("action")
    return twiml(twilio.post(path_of(action), {"CallSid": sid, "Digits": digits}))


@pytest.fixture
def screened(number):
    """The campaign challenges callers whose caller ID failed or is not verified."""
    campaign = number.campaign
    campaign.challenge_attestation = "unverified"
    campaign.save()
    return number


# The fake Twilio of the provisioning tests, over real HTTP.
from tests.provisioning.conftest import fake, fake_server  # noqa: E402, F401
