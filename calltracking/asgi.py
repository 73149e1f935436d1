"""ASGI entry point, for servers that speak ASGI."""

import os

from django.core.asgi import get_asgi_application

from calltracking.serving import require_private_email, require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltracking.settings")

application = get_asgi_application()
require_secret_key()
require_private_email()
