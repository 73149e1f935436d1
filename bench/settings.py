"""The app's own settings, plus the framework floor URL that benchmarks compare against."""

from calltracking.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
