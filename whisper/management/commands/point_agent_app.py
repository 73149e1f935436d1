"""Point the agents' TwiML App at this app: `python manage.py point_agent_app`."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from whisper import twilio_api


class Command(BaseCommand):
    help = (
        "Set the Voice URL of the TwiML App named by TWILIO_TWIML_APP_SID (the one agents' "
        "browsers register with) to this app, as buying a number sets the number's."
    )

    def handle(self, *args, **options) -> None:
        if not settings.TWILIO_TWIML_APP_SID:
            raise CommandError("TWILIO_TWIML_APP_SID is not set.")
        if not settings.PUBLIC_BASE_URL:
            raise CommandError("PUBLIC_BASE_URL is not set: Twilio needs the app's public URL.")
        voice_url = settings.PUBLIC_BASE_URL + reverse("whisper:agent-outgoing")
        try:
            now = twilio_api.twiml_app_update(
                sid=settings.TWILIO_TWIML_APP_SID, voice_url=voice_url
            )
        except twilio_api.TwilioError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"TwiML App {settings.TWILIO_TWIML_APP_SID}: Voice URL {now}")
