"""The caller's side of a menu, as Twilio posts it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.twilio_signing import TwilioPoster, path_of, twiml
from tests.whisper.steps import CALLER, TRACKING


def chose(twilio: TwilioPoster, menu: ET.Element, *, sid: str = "CA100", **params: str):
    """The caller answers the menu's <Gather> (no Digits/SpeechResult: silence)."""
    action = menu.find("Gather").get("action")
    data = {"CallSid": sid, "From": CALLER, "To": TRACKING, "CallStatus": "in-progress"}
    return twiml(twilio.post(path_of(action), {**data, **params}))


def redirected(twilio: TwilioPoster, menu: ET.Element, *, sid: str = "CA100"):
    """Twilio falls through the <Gather> to the <Redirect> after it."""
    return twiml(twilio.post(path_of(menu.find("Redirect").text), {"CallSid": sid}))


def dialed(response: ET.Element) -> list[str]:
    assert response[0].tag == "Dial", [el.tag for el in response]
    return [number.text for number in response.findall("Dial/Number")]
