"""Apply the retention policy to call logs: callers' numbers are personal data.

By default old calls are anonymised (caller number, name and ZIP code blanked, voicemails and
recordings with their transcriptions removed from the log), which keeps every report figure;
--delete removes them altogether.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from tracking.models import Call, Recording

BATCH = 5000
PERSONAL = {"caller_number": "", "caller_name": "", "caller_zip": ""}


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
        cutoff = timezone.now() - timedelta(days=days)
        old = Call.objects.filter(started_at__lt=cutoff)
        if not delete:
            recorded = Exists(Recording.objects.filter(call_id=OuterRef("call_sid")))
            old = old.filter(
                ~Q(caller_number="") | ~Q(caller_name="") | ~Q(caller_zip="") | recorded
            )
        if dry_run:
            action = "delete" if delete else "anonymise"
            self.stdout.write(f"would {action} {old.count()} calls older than {days} days")
            return
        done = 0
        # In batches, so a large backlog never holds a long lock on the call table.
        while sids := list(old.order_by().values_list("call_sid", flat=True)[:BATCH]):
            batch = Call.objects.filter(call_sid__in=sids)
            if delete:
                done += batch.delete()[1].get(Call._meta.label, 0)
            else:
                Recording.objects.filter(call_id__in=sids).delete()
                done += batch.update(**PERSONAL)
        action = "deleted" if delete else "anonymised"
        self.stdout.write(f"{action} {done} calls older than {days} days")
