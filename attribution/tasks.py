"""Background jobs of website attribution (run by `manage.py run_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def flush_visits() -> int:
    """Periodic, with holds in Redis: write the pages and last sights Redis has newer than the
    database (see `live`); how many visits were written."""
    from attribution import live

    return live.flush_all()
