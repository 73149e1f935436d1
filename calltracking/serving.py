"""What the web entry points check before they take a single request."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    """Refuse to serve without a secret key: sessions and CSRF tokens could not be signed."""
    try:
        configured = bool(settings.SECRET_KEY)
    except ImproperlyConfigured:
        configured = False
    if not configured:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(or set DEBUG=true for local development only)."
        )


def require_private_email() -> None:
    """Refuse to serve in production with the console e-mail backend: voicemail and
    missed-call e-mails carry callers' numbers, names and transcripts, which would be printed
    into the server log."""
    if settings.DEBUG or settings.EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
        return
    raise ImproperlyConfigured(
        "EMAIL_URL is not set, so e-mails about calls would be printed into the server log. "
        "Set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587), or "
        "EMAIL_URL=dummymail:// to send none (or set DEBUG=true for local development only)."
    )
