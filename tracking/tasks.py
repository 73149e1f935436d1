"""Background jobs of the call log (see `jobs/` for how they are run and scheduled)."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django_tasks import task

from tracking import notifications


@task()
def notify_call(call_id: int) -> bool:
    """E-mail the notice a call is owed, if it is owed one now; True when one was sent.
    Enqueued by the write that may have made it due."""
    return notifications.notify_if_due(call_id)


@task()
def send_due_notices() -> int:
    """Periodic: notices only time makes due, and those whose sending failed."""
    return notifications.sweep()


@task()
def drain_spool() -> dict[str, int]:
    """Periodic: replay call events spooled on this machine while the database was down.

    Web processes replay their own spool as soon as the database is back; this catches what
    they left, and clears events whose call never came. It drains the spool of the machine the
    worker runs on: a web server without a worker beside it runs `drain_spool` from cron."""
    from tracking import events  # events → services → this module

    report = events.drain()
    return {"written": report.written, "waiting": report.waiting, "dropped": report.dropped}


@task()
def purge_calls() -> str:
    """Periodic (daily) when CALL_RETENTION_DAYS is set: the retention policy."""
    out = StringIO()
    call_command("purge_calls", stdout=out)
    return out.getvalue().strip()
