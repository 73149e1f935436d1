"""One function per request Twilio makes during a call, so tests read like the call itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tests.twilio_signing import TwilioPoster, path_of, twiml

CALLER = "+13125550123"
TRACKING = "+15125550100"


def twilio_timestamp(seconds_ago: int = 60) -> str:
    """A `Timestamp` as Twilio writes it (RFC 2822), a moment before now: the status webhook
    ignores times too far from its clock, so a fixed date would stop working with time."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds_ago)
    return format_datetime(at)


def incoming(twilio: TwilioPoster, sid: str = "CA100", **params: str) -> ET.Element:
    data = {
        "CallSid": sid,
        "From": CALLER,
        "To": TRACKING,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "FromCity": "AUSTIN",
        "FromState": "TX",
        "FromZip": "78701",
        "FromCountry": "US",
        **params,
    }
    return twiml(twilio.post("/twilio/voice/", data))


def answered(
    twilio: TwilioPoster, response: ET.Element, child_sid: str = "CA200", leg: int = 0
) -> ET.Element:
    """The callee picks up: Twilio requests the <Number url> on the callee's leg (the `leg`th
    <Number> of the <Dial>)."""
    number = response.findall("Dial/Number")[leg]
    parent = dict(_query(number.get("url"))).get("call", "")
    return twiml(
        twilio.post(
            path_of(number.get("url")),
            {
                "CallSid": child_sid,
                "ParentCallSid": parent,
                "Direction": "outbound-dial",
                "CallStatus": "in-progress",
                "From": CALLER,
                "To": number.text,
            },
        )
    )


def pressed(twilio: TwilioPoster, whisper: ET.Element, digits: str, child_sid: str = "CA200"):
    """The callee presses `digits` ("" for the <Gather> timing out)."""
    gather = whisper.find("Gather")
    return twiml(
        twilio.post(
            path_of(gather.get("action")),
            {"CallSid": child_sid, "Digits": digits, "Direction": "outbound-dial"},
        )
    )


def dial_done(twilio: TwilioPoster, response: ET.Element, sid: str = "CA100", **params: str):
    """The <Dial> ends; Twilio requests its action on the caller's leg."""
    action = response.find("Dial").get("action")
    return twiml(
        twilio.post(path_of(action), {"CallSid": sid, "CallStatus": "in-progress", **params})
    )


def status(twilio: TwilioPoster, sid: str = "CA100", **params: str):
    data = {"CallSid": sid, "CallStatus": "completed", "CallDuration": "61", **params}
    response = twilio.post("/twilio/voice/status/", data)
    assert response.status_code == 204
    return response


def leg_ended(
    twilio: TwilioPoster, response: ET.Element, call_status: str, child_sid: str, leg: int = 0
):
    """A destination's leg ends: Twilio posts the <Number statusCallback>."""
    number = response.findall("Dial/Number")[leg]
    reply = twilio.post(
        path_of(number.get("statusCallback")),
        {"CallSid": child_sid, "CallStatus": call_status, "Direction": "outbound-dial"},
    )
    assert reply.status_code == 204
    return reply


RECORDING_SID = "RE" + "a" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/{RECORDING_SID}"


def recorded(
    twilio: TwilioPoster,
    response: ET.Element,
    seconds: int = 14,
    sid: str = "CA100",
    recording_sid: str = RECORDING_SID,
) -> ET.Element:
    """The caller finishes a message: Twilio posts the <Record action>."""
    record = response.find("Record")
    return twiml(
        twilio.post(
            path_of(record.get("action")),
            {
                "CallSid": sid,
                "RecordingSid": recording_sid,
                "RecordingUrl": RECORDING_URL,
                "RecordingDuration": str(seconds),
                "Digits": "#",
            },
        )
    )


def recording_ready(
    twilio: TwilioPoster,
    callback: str,
    seconds: int = 14,
    sid: str = "CA100",
    recording_sid: str = RECORDING_SID,
    status: str = "completed",
):
    """Twilio posts a recordingStatusCallback once the file is ready."""
    reply = twilio.post(
        path_of(callback),
        {
            "CallSid": sid,
            "RecordingSid": recording_sid,
            "RecordingUrl": RECORDING_URL,
            "RecordingStatus": status,
            "RecordingDuration": str(seconds),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        },
    )
    assert reply.status_code == 204
    return reply


def transcribed(
    twilio: TwilioPoster,
    response: ET.Element,
    text: str,
    sid: str = "CA100",
    recording_sid: str = RECORDING_SID,
):
    record = response.find("Record")
    reply = twilio.post(
        path_of(record.get("transcribeCallback")),
        {
            "CallSid": sid,
            "RecordingSid": recording_sid,
            "TranscriptionText": text,
            "TranscriptionStatus": "completed",
        },
    )
    assert reply.status_code == 204
    return reply


def _query(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(url).query)
