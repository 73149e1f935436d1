"""Apply the retention policy to call logs: callers' numbers are personal data.

By default old calls are anonymised: whatever could lead back to the caller goes (number, name,
place, the Twilio SIDs of the call and its legs, which Twilio maps back to the caller, and the
voicemails and recordings with their transcriptions, deleted on Twilio too); what the reports
count stays (campaign, number, times, durations, outcome, each destination's result). --delete
removes the calls altogether. Spooled call events that could never be written go too. Website
visitors not seen in the period are deleted with their visits, and old calls' attributions lose
click ids and the GA client id (attribution.retention).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from attribution import retention
from tracking import events
from tracking.models import Call
from tracking.privacy import ANONYMISED_PREFIX, calls_anonymise, calls_delete

BATCH = 1000


class Command(BaseCommand):
    help = "Anonymise (or delete) calls older than CALL_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Override CALL_RETENTION_DAYS.")
        parser.add_argument("--delete", action="store_true", help="Delete instead of anonymise.")
        parser.add_argument("--dry-run", action="store_true", help="Only count.")

    def handle(self, *args, days, delete, dry_run, **options):
        days = settings.CALL_RETENTION_DAYS if days is None else days
        if days <= 0:
            raise CommandError(
                "No retention period: set CALL_RETENTION_DAYS or pass --days N (N > 0)."
            )
        try:
            cutoff = timezone.now() - timedelta(days=days)
        except OverflowError:
            raise CommandError(
                f"{days} days ago is before the calendar begins: pass a smaller --days."
            ) from None
        old = Call.objects.filter(started_at__lt=cutoff)
        if not delete:
            old = old.exclude(call_sid__startswith=ANONYMISED_PREFIX)
        action = "delete" if delete else "anonymise"
        if dry_run:
            self.stdout.write(f"would {action} {old.count()} calls older than {days} days")
            visitors = retention.old_visitors(cutoff).count()
            self.stdout.write(f"would delete {visitors} website visitors not seen since")
            return
        done, failed = 0, set()
        # In batches, so a large backlog never holds a long lock on the call table.
        while sids := list(
            old.exclude(call_sid__in=failed).order_by().values_list("call_sid", flat=True)[:BATCH]
        ):
            if not delete:
                retention.attributions_anonymise(call_sids=sids)
            result = (calls_delete if delete else calls_anonymise)(call_sids=sids)
            done += result.done
            failed.update(result.failed)
            for error in result.errors:
                self.stderr.write(error)
        done_word = "deleted" if delete else "anonymised"
        self.stdout.write(f"{done_word} {done} calls older than {days} days")
        visitors = retention.visitors_delete(cutoff=cutoff)
        self.stdout.write(f"deleted {visitors} website visitors not seen since, with their visits")
        removed = events.purge_unwritable(older_than=cutoff)
        if removed:
            self.stdout.write(f"removed {removed} spooled events that could not be written")
        if failed:
            raise CommandError(
                f"{len(failed)} calls kept as they were: their recordings could not be deleted "
                "on Twilio. Run the command again once Twilio is reachable."
            )
