"""WSGI entry point: `gunicorn calltracking.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

from calltracking.serving import require_private_email, require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltracking.settings")

application = get_wsgi_application()
require_secret_key()
require_private_email()
