"""System checks: say at start-up what would otherwise fail on the first call."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security)
def twilio_settings(app_configs, **kwargs):
    warnings = []
    if not settings.TWILIO_AUTH_TOKEN and settings.TWILIO_VALIDATE_SIGNATURES:
        warnings.append(
            Warning(
                "TWILIO_AUTH_TOKEN is not set: every Twilio webhook will answer 403.",
                hint="Set TWILIO_AUTH_TOKEN (Twilio console, Account Info).",
                id="whisper.W001",
            )
        )
    if not settings.TWILIO_VALIDATE_SIGNATURES:
        warnings.append(
            Warning(
                "TWILIO_VALIDATE_SIGNATURES is off: anyone can post fake calls to the webhooks.",
                hint="Remove TWILIO_VALIDATE_SIGNATURES=false outside a tunnel you control.",
                id="whisper.W002",
            )
        )
    return warnings
