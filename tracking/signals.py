"""Keep cached routes in step with the campaigns and numbers they are built from."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from tracking import routing, screening
from tracking.models import (
    Agent,
    BlockedCaller,
    Campaign,
    Destination,
    Holiday,
    MenuOption,
    OpeningHours,
    TrackingNumber,
)


@receiver(post_save, sender=Campaign)
def campaign_saved(sender, instance: Campaign, **kwargs) -> None:
    routing.refresh_campaign(instance)


@receiver(pre_save, sender=TrackingNumber)
def number_renumbered(sender, instance: TrackingNumber, **kwargs) -> None:
    # A number given a new phone number must stop answering on its old one.
    if instance.pk:
        old = TrackingNumber.objects.filter(pk=instance.pk).values_list("phone_number", flat=True)
        for phone_number in old:
            if phone_number != instance.phone_number:
                routing.forget_number(phone_number)


@receiver(post_save, sender=TrackingNumber)
def number_saved(sender, instance: TrackingNumber, **kwargs) -> None:
    routing.refresh_number(instance)


@receiver(post_delete, sender=TrackingNumber)
def number_deleted(sender, instance: TrackingNumber, **kwargs) -> None:
    routing.forget_number(instance.phone_number)


@receiver(post_save, sender=Destination)
@receiver(post_delete, sender=Destination)
@receiver(post_save, sender=OpeningHours)
@receiver(post_delete, sender=OpeningHours)
@receiver(post_save, sender=Holiday)
@receiver(post_delete, sender=Holiday)
@receiver(post_save, sender=MenuOption)
@receiver(post_delete, sender=MenuOption)
def campaign_part_changed(sender, instance, **kwargs) -> None:
    # Destinations, hours and holidays are part of every route of their campaign. Stamping
    # the campaign anew tells every cached route that its copy of them is out of date.
    Campaign.objects.filter(pk=instance.campaign_id).update(updated_at=timezone.now())
    campaign = Campaign.objects.filter(pk=instance.campaign_id).first()
    if campaign is not None:
        routing.refresh_campaign(campaign)


@receiver(m2m_changed, sender=MenuOption.destinations.through)
def menu_destinations_changed(sender, instance, action: str, **kwargs) -> None:
    if action.startswith("post_") and isinstance(instance, MenuOption):
        campaign_part_changed(sender, instance)


@receiver(post_save, sender=Agent)
@receiver(post_delete, sender=Agent)
def agent_changed(sender, instance: Agent, **kwargs) -> None:
    # An agent's availability is part of the routes of every campaign that rings them.
    campaigns = Campaign.objects.filter(destinations__agent_id=instance.pk).distinct()
    for campaign in campaigns:
        Campaign.objects.filter(pk=campaign.pk).update(updated_at=timezone.now())
        campaign.refresh_from_db(fields=["updated_at"])
        routing.refresh_campaign(campaign)


@receiver(post_save, sender=BlockedCaller)
@receiver(post_delete, sender=BlockedCaller)
def block_list_changed(sender, instance: BlockedCaller, **kwargs) -> None:
    # Calls read the block list from the cache: re-cache it once the change is committed.
    transaction.on_commit(screening.refresh_block_list, robust=True)
