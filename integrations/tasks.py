"""Background jobs of the outbound webhooks."""

from __future__ import annotations

from django_tasks import task


@task()
def publish_call_events(call_sid: str, kind: str) -> list[str]:
    """Turn a write to the call log into events and their deliveries; the event ids."""
    from integrations import services

    return [event.event_id for event in services.call_events_publish(call_sid=call_sid, kind=kind)]


@task()
def deliver(delivery_id: int, force: bool = False) -> str | None:
    """One attempt of one delivery; retries enqueue themselves."""
    from integrations import delivery

    return delivery.attempt(delivery_id, force=force)


@task()
def recover_stalled_deliveries() -> int:
    """Periodic: deliveries a dead worker left half-sent go out again."""
    from integrations import delivery

    return delivery.recover_stalled()


@task()
def tell_admins_endpoint_off(endpoint_id: int, reason: str) -> None:
    from integrations import delivery
    from integrations.models import Endpoint

    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is not None:
        delivery.tell_admins(endpoint, reason)


@task()
def prune_event_log() -> int:
    """Periodic (daily): forget events (with their deliveries) past the log's keeping time."""
    from integrations import services

    return services.event_log_prune()
