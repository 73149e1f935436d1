"""The app's own settings, plus the framework floor URL that benchmarks compare against."""

from calltracking.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Benchmarks render admin pages without running collectstatic first.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
