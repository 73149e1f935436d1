"""Keep the cached subscriptions in step with the endpoints."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations import subscriptions
from integrations.models import Endpoint


@receiver(post_save, sender=Endpoint)
@receiver(post_delete, sender=Endpoint)
def endpoint_changed(sender, instance: Endpoint, **kwargs) -> None:
    # Forget now (this process reads the change at once), and write the committed truth for
    # every process once the change is committed.
    subscriptions.forget()
    transaction.on_commit(subscriptions.refresh, robust=True)
