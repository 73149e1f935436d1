"""A recording's audio, fetched from Twilio and passed on to one of our signed-in users (the
admin's player and the API both serve it this way)."""

from __future__ import annotations

from django.http import StreamingHttpResponse

from tracking.models import Recording
from whisper import twilio_api


def recording_audio_response(
    recording: Recording, media: twilio_api.RecordingMedia
) -> StreamingHttpResponse:
    """Twilio's answer streamed as it comes, with its own status and range headers (the player
    seeks with Range requests), kept privately by the browser for an hour."""
    response = StreamingHttpResponse(media, status=media.status, content_type=media.content_type)
    for name, value in media.headers.items():
        response[name] = value
    response["Content-Disposition"] = f'inline; filename="{recording.recording_sid}.mp3"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
