"""Work the background-job queue: django-tasks-db's `db_worker`, plus the clock that enqueues
the periodic jobs. Run one or more on any machine that reaches the database."""

from __future__ import annotations

import logging
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from jobs import schedule

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background jobs (and enqueue the periodic ones when due)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between looks at an empty queue."
        )
        parser.add_argument(
            "--schedule-every",
            type=float,
            default=15.0,
            help="Seconds between looks at the periodic jobs' schedule.",
        )
        parser.add_argument(
            "--no-schedule", action="store_true", help="Run queued jobs only, never enqueue."
        )

    def handle(self, *args, interval, schedule_every, no_schedule, **options):
        if not no_schedule:
            stop = threading.Event()
            threading.Thread(
                target=_clock, args=(stop, schedule_every), name="job-clock", daemon=True
            ).start()
        call_command(
            "db_worker",
            queue_name="*",
            interval=interval,
            reload=False,
            verbosity=options["verbosity"],
        )


def _clock(stop: threading.Event, every: float) -> None:
    while not stop.is_set():
        try:
            for name in schedule.enqueue_due():
                logger.info("Enqueued periodic job %s", name)
        except DatabaseError:
            logger.warning("Database unavailable: periodic jobs wait")
        except Exception:
            logger.exception("Could not enqueue periodic jobs")
        finally:
            close_old_connections()
        # A job due more often than the schedule is looked at (visits written behind) sets
        # the pace.
        stop.wait(min(every, schedule.shortest_period().total_seconds()))
