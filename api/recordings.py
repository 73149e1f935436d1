"""A recording's audio for API clients, fetched from Twilio with the account's credentials,
which the client never needs."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.views import APIView

from tracking.models import Call, Recording
from whisper import twilio_api
from whisper.recording_audio import recording_audio_response


class TwilioUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "twilio_unavailable"


class RecordingAudioView(APIView):
    """The MP3 of a voicemail or a recorded conversation (a `Range` header is passed on)."""

    # Whoever may read calls may listen to them, as in the admin.
    permission_model = Call

    @extend_schema(responses={(200, "audio/mpeg"): OpenApiTypes.BINARY}, tags=["calls"])
    def get(self, request: Request, recording_sid: str) -> StreamingHttpResponse:
        recording = Recording.objects.filter(recording_sid=recording_sid).first()
        if recording is None:
            raise exceptions.NotFound("No such recording.")
        try:
            media = twilio_api.recording_media(
                sid=recording.recording_sid, byte_range=request.headers.get("Range", "")
            )
        except twilio_api.TwilioError as error:
            if error.not_found:
                raise exceptions.NotFound(error.message) from None
            raise TwilioUnavailable(error.message) from None
        return recording_audio_response(recording, media)
