"""Replay call events that were spooled while the database was unavailable.

Web processes replay their own spool in the background, and the worker drains the spool of its
own machine every few minutes; run this after an outage, or from cron on a web server with no
worker beside it, to make sure nothing waits and to clear events whose call never came.
"""

from django.core.management.base import BaseCommand

from tracking import events


class Command(BaseCommand):
    help = "Write spooled call events to the database."

    def handle(self, *args, **options):
        report = events.drain()
        self.stdout.write(
            f"written {report.written}, waiting {report.waiting}, dropped {report.dropped}"
        )
        if report.database_down:
            self.stderr.write("The database is still unavailable; the rest stays spooled.")
            raise SystemExit(1)
