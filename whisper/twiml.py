"""The TwiML documents the app answers with, all built with twilio's VoiceResponse."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

from tracking.agents import client_identity

# Seconds the callee has to press a key once the whisper has been read.
WHISPER_KEY_TIMEOUT = 6
# Seconds a caller has to press the challenge's key once it has been said.
CHALLENGE_KEY_TIMEOUT = 8

NOT_IN_SERVICE = "Sorry, the number you have called is not in service. Goodbye."
THANKS_FOR_MESSAGE = "Thank you for your message. Goodbye."
CHALLENGE_FAILED = "Sorry, that was not the right key. Goodbye."
# Heard by a destination picking up a call another destination has just reported as spam.
REPORTED_AS_SPAM = "This call was reported as spam. Goodbye."
FALLBACK_VOICE = "Polly.Joanna"
FALLBACK_LANGUAGE = "en-US"


def response(twiml: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(twiml), content_type="text/xml")


@dataclass(frozen=True)
class Leg:
    """One phone (or agent's browser, `client:identity`) a <Dial> rings, with where Twilio
    reports on it. `parameters` reach a browser's Voice SDK with the call."""

    phone_number: str
    whisper_url: str
    status_url: str
    parameters: dict[str, str] = field(default_factory=dict)


def ring(
    *,
    legs: list[Leg],
    ring_timeout: int,
    dial_action: str,
    notice: VoiceNotice | None = None,
    recording_url: str = "",
) -> VoiceResponse:
    """Ring one destination, or several at once (the first to be joined wins).

    <Dial> comes first so that with answerOnBridge the caller hears ringing, not silence, until
    a destination has accepted. A recording notice has to be heard before that, which answers
    the call; Twilio then plays the caller a ringing tone while the <Dial> rings.
    """
    twiml = VoiceResponse()
    if notice is not None:
        twiml.say(notice.words, voice=notice.voice, language=notice.language)
    recording = (
        {
            "record": "record-from-answer-dual",
            "recording_status_callback": recording_url,
            "recording_status_callback_event": "completed",
            "recording_status_callback_method": "POST",
        }
        if recording_url
        else {}
    )
    dial = twiml.dial(
        answer_on_bridge=True,
        action=dial_action,
        method="POST",
        timeout=ring_timeout,
        **recording,
    )
    for leg in legs:
        callbacks = {
            "url": leg.whisper_url,
            "method": "POST",
            "status_callback": leg.status_url,
            "status_callback_event": "completed",
            "status_callback_method": "POST",
        }
        identity = client_identity(leg.phone_number)
        if identity:
            # The agent's browser: its whisper comes from the <Client url>, as a phone's does.
            client = dial.client(**callbacks)
            client.identity(identity)
            for name, value in leg.parameters.items():
                client.parameter(name=name, value=value)
        else:
            dial.number(leg.phone_number, **callbacks)
    return twiml


@dataclass(frozen=True)
class VoiceNotice:
    words: str
    voice: str
    language: str


def voicemail(
    *,
    greeting: VoiceNotice,
    audio_url: str,
    max_seconds: int,
    action: str,
    recording_url: str,
    transcription_url: str = "",
) -> VoiceResponse:
    """The campaign's greeting, then a message recorded until # or silence or `max_seconds`.

    Twilio posts the recording to `action` as the caller finishes (the caller hears its answer)
    and again, once the file is ready, to `recording_url`; either may come first, or twice.
    """
    twiml = VoiceResponse()
    if audio_url:
        twiml.play(audio_url)
    else:
        twiml.say(greeting.words, voice=greeting.voice, language=greeting.language)
    transcription = (
        {"transcribe": True, "transcribe_callback": transcription_url} if transcription_url else {}
    )
    twiml.record(
        action=action,
        method="POST",
        max_length=max_seconds,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=recording_url,
        recording_status_callback_event="completed",
        recording_status_callback_method="POST",
        **transcription,
    )
    return twiml


def screen(*, words: str, voice: str, language: str, decide_url: str) -> VoiceResponse:
    """The whisper, heard by the callee alone, and one key to decide.

    actionOnEmptyResult posts silence to `decide_url` too, so "no key" is recorded as such; the
    <Hangup/> after the <Gather> makes sure silence never bridges the call (a voicemail greeting
    must not take it) even if that action is not requested.
    """
    twiml = VoiceResponse()
    gather = twiml.gather(
        num_digits=1,
        action=decide_url,
        method="POST",
        timeout=WHISPER_KEY_TIMEOUT,
        action_on_empty_result=True,
    )
    gather.say(words, voice=voice, language=language)
    twiml.hangup()
    return twiml


def challenge(*, prompt: str, action: str, voice: str, language: str) -> VoiceResponse:
    """A question a caller must answer with one key before anything rings.

    Said twice inside a one-key <Gather>; silence posts an empty answer to `action` too
    (actionOnEmptyResult), and the <Hangup/> ends the call should that post not come.
    """
    twiml = VoiceResponse()
    gather = twiml.gather(
        num_digits=1,
        action=action,
        method="POST",
        timeout=CHALLENGE_KEY_TIMEOUT,
        action_on_empty_result=True,
    )
    gather.say(prompt, voice=voice, language=language, loop=2)
    twiml.hangup()
    return twiml


def reject() -> VoiceResponse:
    """Refuse the call without answering it: nothing rings, and Twilio does not bill it."""
    twiml = VoiceResponse()
    twiml.reject()
    return twiml


def bridge() -> VoiceResponse:
    """An empty document: Twilio joins the callee to the waiting caller."""
    return VoiceResponse()


def hang_up() -> VoiceResponse:
    twiml = VoiceResponse()
    twiml.hangup()
    return twiml


def say_and_hang_up(words: str, *, voice: str, language: str) -> VoiceResponse:
    twiml = VoiceResponse()
    twiml.say(words, voice=voice, language=language)
    twiml.hangup()
    return twiml


def not_in_service() -> VoiceResponse:
    return say_and_hang_up(NOT_IN_SERVICE, voice=FALLBACK_VOICE, language=FALLBACK_LANGUAGE)
