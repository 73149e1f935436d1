"""Import the Twilio account's numbers and report, number by number, what changed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracking import provisioning
from tracking.models import Campaign


class Command(BaseCommand):
    help = (
        "Match the Twilio account's numbers to tracking numbers (by SID, then by phone number), "
        "import unknown ones into --campaign, and report each number."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--campaign",
            help="Campaign (id or exact name) for numbers not tracked yet; without it they are "
            "skipped.",
        )
        parser.add_argument(
            "--repoint",
            action="store_true",
            help="Point numbers whose webhooks differ back at PUBLIC_BASE_URL.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )

    def handle(self, *args, campaign: str | None, repoint: bool, dry_run: bool, **options):
        target = _campaign(campaign) if campaign else None
        try:
            changes = provisioning.numbers_sync(campaign=target, repoint=repoint, dry_run=dry_run)
        except provisioning.ProvisioningError as error:
            raise CommandError(error.message) from None
        if dry_run:
            self.stdout.write("Dry run: nothing was changed, here or on Twilio.")
        if not changes:
            self.stdout.write("The Twilio account has no numbers.")
            return
        for change in changes:
            self.stdout.write(str(change))
        counts: dict[str, int] = {}
        for change in changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        summary = ", ".join(f"{count} {action}" for action, count in sorted(counts.items()))
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} numbers: {summary}."))


def _campaign(value: str) -> Campaign:
    matches = Campaign.objects.filter(pk=int(value)) if value.isdigit() else Campaign.objects.none()
    campaign = matches.first() or Campaign.objects.filter(name=value).first()
    if campaign is None:
        raise CommandError(f"No campaign with id or name “{value}”.")
    return campaign
