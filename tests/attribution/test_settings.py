"""Settings of website attribution, read from the environment as the README says."""

from __future__ import annotations

from tests.attribution.conftest import redis_url
from tests.test_settings import _run

SHOW = (
    "import django; django.setup(); from django.conf import settings;"
    "from django.core.cache import cache; from attribution import pools;"
    "cache.set('dni-settings-test', 7); print(cache.get('dni-settings-test'));"
    "print(type(pools.backend()).__name__, settings.DNI_RATE_LIMIT)"
)


def test_the_backend_and_a_redis_cache_come_from_the_environment():
    result = _run(
        SHOW,
        SECRET_KEY="x",
        CACHE_URL=redis_url(),
        DNI_BACKEND="redis",
        DNI_REDIS_URL=redis_url(),
        DNI_RATE_LIMIT="30",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7", "RedisPool", "30"]


def test_the_database_backend_is_the_default():
    result = _run(SHOW.replace("cache.set", "0 and cache.set"), SECRET_KEY="x")
    assert result.stdout.split()[-2:] == ["DatabasePool", "120"]


def test_an_unknown_backend_is_refused():
    result = _run(SHOW, SECRET_KEY="x", DNI_BACKEND="memcached")
    assert result.returncode != 0
    assert "DNI_BACKEND must be database or redis" in result.stderr
