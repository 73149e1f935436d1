"""The TwiML documents the app answers with, all built with twilio's VoiceResponse."""

from __future__ import annotations

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

# Seconds the callee has to press a key once the whisper has been read.
WHISPER_KEY_TIMEOUT = 6

NOT_IN_SERVICE = "Sorry, the number you have called is not in service. Goodbye."
FALLBACK_VOICE = "Polly.Joanna"
FALLBACK_LANGUAGE = "en-US"


def response(twiml: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(twiml), content_type="text/xml")


def forward(
    *, destination: str, ring_timeout: int, dial_action: str, whisper_url: str
) -> VoiceResponse:
    """Ring the business. <Dial> must be the first verb for answerOnBridge: the caller hears
    ringing, not silence, until the callee has accepted and the legs are joined."""
    twiml = VoiceResponse()
    dial = twiml.dial(
        answer_on_bridge=True, action=dial_action, method="POST", timeout=ring_timeout
    )
    dial.number(destination, url=whisper_url, method="POST")
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
