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
