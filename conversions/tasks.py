"""Background jobs of the conversion uploads (run by `manage.py run_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def consider_call(call_sid: str) -> list[str]:
    """After a write to an ended call: plan or call off its uploads."""
    from conversions import services

    return services.call_consider(call_sid=call_sid)


@task()
def send_uploads(destination: str) -> dict[str, int]:
    """Send the uploads due to one destination, a batch at a time; retries enqueue themselves."""
    from conversions import services

    return services.uploads_send(destination=destination)


@task()
def sweep_uploads() -> dict[str, int]:
    """Periodic: qualified calls no write planned an upload for, and uploads a dead worker
    left half-sent."""
    from conversions import services

    return services.uploads_sweep()
