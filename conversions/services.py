"""Uploads of qualified calls to Google: planned when a call's write makes it qualified (or by
the sweep), then sent in batches by background jobs, never while a caller waits.

An upload is claimed (a conditional UPDATE stamping a claim and a lease) before it is sent, so
two workers never send it at once; a worker that dies mid-send leaves a lease that expires,
and the upload is sent again with the same transactionId (the call's SID), which Google drops
as a repeat. Google has no retraction on this path: a call marked spam after it was sent stays
counted there; one marked before is never sent.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from attribution.models import CallAttribution
from conversions import config, payloads, selectors, tasks, transport
from conversions.models import Upload
from conversions.selectors import Conversion
from tracking import leads
from tracking.models import Call

logger = logging.getLogger(__name__)

Status, Destination = Upload.Status, Upload.Destination

# The waits before the second, third… attempt after Google failed to answer (5xx, 429, no
# answer, a refused token); after the last, the upload has failed.
RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Events per Data Manager request (Google's limit); GA4 takes one call per request, and a job
# sends at most this many.
BATCH = {Destination.GOOGLE_ADS: 2000, Destination.GA4: 100}
# Requests one job may spend narrowing a rejected batch down to the events Google refused.
MAX_REQUESTS = 40
# A claim is held this long: longer than any job's requests can take.
LEASE = timedelta(minutes=15)
# How far back the sweep looks for qualified calls no upload was planned for.
SWEEP_WINDOW = timedelta(days=3)
NOT_QUALIFIED = "No longer a qualified lead"


def _eligible(destination: str) -> Q:
    if destination == Destination.GOOGLE_ADS:
        return selectors.with_google_click()
    return selectors.with_ga_client()


def call_consider(*, call_sid: str, now: datetime | None = None) -> list[str]:
    """Plan (or call off) the uploads of a call after a write to it; the destinations it now
    waits to be sent to.

    1. Not a qualified lead (any more): its uploads not yet sent are canceled.
    2. Qualified, with what a destination matches on (a Google click id; a GA client id):
       an upload is made, once, due now; one canceled before waits again.
    3. A send job per destination with a new upload.
    """
    now = now or timezone.now()
    destinations = config.destinations()
    call = Call.objects.select_related("campaign").filter(call_sid=call_sid).first()
    if not destinations or call is None or call.ended_at is None:
        return []
    qualification = leads.qualification(call)
    attribution = CallAttribution.objects.filter(call_id=call_sid).first()
    planned = []
    with transaction.atomic():
        for destination in destinations:
            uploads = Upload.objects.filter(call_id=call_sid, destination=destination)
            if not qualification.qualified:
                uploads.filter(status__in=[Status.PENDING, Status.FAILED]).update(
                    status=Status.CANCELED,
                    next_attempt_at=None,
                    last_error=_not_qualified(qualification),
                    updated_at=now,
                )
                continue
            if attribution is None or not _matchable(destination, attribution):
                continue
            revived = uploads.filter(status=Status.CANCELED).update(
                status=Status.PENDING, next_attempt_at=now, last_error="", updated_at=now
            )
            _, created = Upload.objects.get_or_create(
                call_id=call_sid,
                destination=destination,
                defaults={"next_attempt_at": now, "created_at": now},
            )
            if created or revived:
                planned.append(destination)
        for destination in planned:
            tasks.send_uploads.enqueue(destination)
    return planned


def _not_qualified(qualification: leads.Qualification) -> str:
    failed = (check.reason for check in qualification.checks if not check.passed)
    return f"{NOT_QUALIFIED}: " + "; ".join(failed)


def _matchable(destination: str, row: CallAttribution | Conversion) -> bool:
    """Whether `row` carries what `destination` matches a conversion on: a Google click id
    for Google Ads, a GA client id for GA4."""
    if destination == Destination.GOOGLE_ADS:
        return any(getattr(row, kind) for kind in selectors.CLICK_IDS)
    return bool(row.ga_client_id)


def uploads_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic: uploads a dead worker left half-sent are due again; qualified calls of the
    last SWEEP_WINDOW that no write planned an upload for (a campaign's rule changed, a
    destination was just configured, a job was lost) get one; a send job per destination
    with uploads due."""
    now = now or timezone.now()
    recovered = Upload.objects.filter(status=Status.SENDING, lease_until__lt=now).update(
        status=Status.PENDING, next_attempt_at=now, lease_until=None, claim="", updated_at=now
    )
    report = {"recovered": recovered}
    for destination in config.destinations():
        missing = (
            selectors.qualified_calls()
            .filter(started_at__gte=now - SWEEP_WINDOW, ended_at__isnull=False)
            .filter(_eligible(destination))
            .filter(
                ~Exists(
                    Upload.objects.filter(call_id=OuterRef("call_sid"), destination=destination)
                )
            )
            .order_by("started_at")
            .values_list("call_sid", flat=True)
        )
        made = Upload.objects.bulk_create(
            [
                Upload(call_id=sid, destination=destination, next_attempt_at=now, created_at=now)
                for sid in missing
            ],
            ignore_conflicts=True,
        )
        report[destination] = len(made)
        due = Upload.objects.filter(
            destination=destination, status=Status.PENDING, next_attempt_at__lte=now
        )
        if due.exists():
            tasks.send_uploads.enqueue(destination)
    return report


def uploads_send(*, destination: str, now: datetime | None = None) -> dict[str, int]:
    """Send the uploads of `destination` due at `now`, a batch at a time; what became of them.

    1. Claim a batch (conditional UPDATE: status, claim, lease, one more attempt).
    2. Calls no longer qualified are canceled; the others are sent (Google Ads: one
       `events:ingest` request for the batch; GA4: one request per call).
    3. Each upload is settled: sent, failed (Google refused it), or due again later.
    4. A full batch leaves more behind: another job for them.
    """
    now = now or timezone.now()
    size = BATCH[destination]
    destination_settings = (
        config.google_ads() if destination == Destination.GOOGLE_ADS else config.ga4()
    )
    if destination_settings is None:
        return {}
    claim = secrets.token_hex(16)
    due = Upload.objects.filter(
        destination=destination, status=Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    claimed = Upload.objects.filter(
        pk__in=list(due.values_list("pk", flat=True)[:size]), status=Status.PENDING
    ).update(
        status=Status.SENDING,
        claim=claim,
        lease_until=now + LEASE,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return {}
    batch = _Batch(claim, now)
    # In the order the calls rang, as Google would have seen them live.
    held = Upload.objects.filter(claim=claim, status=Status.SENDING)
    sids = list(held.order_by("call__started_at", "pk").values_list("call_id", flat=True))
    found = selectors.conversions_of(sids)
    for call in Call.objects.select_related("campaign").filter(
        call_sid__in=[sid for sid in sids if sid not in found]
    ):
        batch.cancel(call.call_sid, _not_qualified(leads.qualification(call)))
    rows = [found[sid] for sid in sids if sid in found]
    # The call log's retention strips click and client ids from old calls' attribution.
    gone = [row.call_sid for row in rows if not _matchable(destination, row)]
    batch.skip(gone, "The call's click id (or GA client id) is no longer kept: not sent.")
    rows = [row for row in rows if row.call_sid not in gone]
    if destination == Destination.GOOGLE_ADS:
        _send_google_ads(destination_settings, rows, batch)
    else:
        _send_ga4(destination_settings, rows, batch)
    if claimed == size:
        tasks.send_uploads.enqueue(destination)
    return batch.report


class _Batch:
    """The uploads of one claim, settled call by call (only while still held by the claim)."""

    def __init__(self, claim: str, now: datetime) -> None:
        self.claim = claim
        self.now = now
        self.report: dict[str, int] = {}
        self.retry_at: datetime | None = None

    def _held(self, sids: Iterable[str]):
        return Upload.objects.filter(
            call_id__in=list(sids), claim=self.claim, status=Status.SENDING
        )

    def _count(self, status: str, count: int) -> None:
        if count:
            self.report[status] = self.report.get(status, 0) + count

    def _settle(self, sids: list[str], **fields) -> None:
        if sids:
            fields.setdefault("updated_at", timezone.now())
            count = self._held(sids).update(lease_until=None, claim="", **fields)
            self._count(fields["status"], count)

    def sent(self, sids: list[str], request_id: str = "") -> None:
        self._settle(
            sids,
            status=Status.SENT,
            sent_at=timezone.now(),
            last_error="",
            request_id=request_id[:100],
            next_attempt_at=None,
        )

    def failed(self, errors: dict[str, str]) -> None:
        for sid, error in errors.items():
            self._settle([sid], status=Status.FAILED, last_error=error, next_attempt_at=None)

    def skip(self, sids: list[str], why: str) -> None:
        self._settle(sids, status=Status.SKIPPED, last_error=why, next_attempt_at=None)

    def cancel(self, sid: str, why: str) -> None:
        self._settle([sid], status=Status.CANCELED, last_error=why, next_attempt_at=None)

    def retry(self, sids: list[str], error: str, wait: timedelta | None = None) -> None:
        """Due again after the schedule's delay for each upload's attempts (or Google's
        Retry-After, if longer); failed after the last attempt."""
        if not sids:
            return
        attempts = dict(self._held(sids).values_list("call_id", "attempts"))
        by_attempts: dict[int, list[str]] = {}
        for sid, count in attempts.items():
            by_attempts.setdefault(count, []).append(sid)
        for count, group in by_attempts.items():
            if count >= MAX_ATTEMPTS:
                self._settle(
                    group,
                    status=Status.FAILED,
                    last_error=f"Gave up after {count} attempts. {error}"[:2000],
                    next_attempt_at=None,
                )
                continue
            due = self.now + max(RETRY_DELAYS[count - 1], wait or timedelta(0))
            self._settle(group, status=Status.PENDING, last_error=error, next_attempt_at=due)
            self.retry_at = min(self.retry_at or due, due)


def _send_google_ads(ads: config.GoogleAds, rows: list[Conversion], batch: _Batch) -> None:
    """One request for the batch. Google refuses a whole request for one bad event: the
    events its error names fail (with Google's words) and the others go again at once; an
    error that names none is narrowed down by halving the batch."""
    queue = deque([[(row.call_sid, payloads.data_manager_event(row)) for row in rows]])
    requests_made = 0
    while queue:
        part = queue.popleft()
        sids = [sid for sid, _ in part]
        if requests_made >= MAX_REQUESTS:
            rest = sids + [sid for waiting in queue for sid, _ in waiting]
            batch.retry(rest, "Google refused the batch; the events at fault are still unknown.")
            break
        requests_made += 1
        answer = transport.ingest(ads, payloads.data_manager_request(ads, [e for _, e in part]))
        if answer.ok:
            request_id = answer.body.get("requestId", "") if answer.body else ""
            batch.sent(sids, str(request_id))
            continue
        if answer.status != 400:
            # Google or the network failed, or the credentials: every event waits its turn.
            rest = sids + [sid for waiting in queue for sid, _ in waiting]
            batch.retry(rest, answer.message, answer.retry_after)
            logger.warning("Google Ads upload failed (%s events): %s", len(rest), answer.message)
            break
        refused = transport.rejection(answer)
        bad = {i: why for i, why in refused.events.items() if i < len(part)}
        if bad:
            batch.failed(
                {sids[i]: f"Google refused this conversion: {why}" for i, why in bad.items()}
            )
            rest = [item for i, item in enumerate(part) if i not in bad]
            if rest:
                queue.appendleft(rest)
        elif refused.other:
            # The request itself (the account, the conversion action): no event is at fault.
            rest = sids + [sid for waiting in queue for sid, _ in waiting]
            batch.retry(rest, refused.message)
            break
        elif len(part) > 1:
            half = len(part) // 2
            queue.extendleft([part[half:], part[:half]])
        else:
            batch.failed({sids[0]: f"Google refused this conversion: {refused.message}"})
    if batch.retry_at is not None:
        tasks.send_uploads.using(run_after=batch.retry_at).enqueue(Destination.GOOGLE_ADS)


def _send_ga4(ga4: config.GA4, rows: list[Conversion], batch: _Batch) -> None:
    """One Measurement Protocol request per call. GA4 takes an event's own time only within
    72 hours: an older call is not sent (it would count as today's). GA4 answers 2xx to
    anything it can read, so a 2xx is all there is to know."""
    for position, row in enumerate(rows):
        if batch.now - row.started_at >= payloads.GA4_BACKDATING:
            batch.skip(
                [row.call_sid],
                "Older than the 72 hours GA4 takes backdated events for: not sent.",
            )
            continue
        answer = transport.collect(ga4, payloads.ga4_request(row))
        if answer.ok:
            batch.sent([row.call_sid])
        elif answer.status is None or answer.status == 429 or answer.status >= 500:
            rest = [later.call_sid for later in rows[position:]]
            batch.retry(rest, answer.message, answer.retry_after)
            break
        else:
            batch.failed({row.call_sid: answer.message})
    if batch.retry_at is not None:
        tasks.send_uploads.using(run_after=batch.retry_at).enqueue(Destination.GA4)


def uploads_send_again(*, uploads: Iterable[Upload], now: datetime | None = None) -> int:
    """The admin's "Send again": failed (or canceled, skipped) uploads due now, with a fresh
    count of attempts; a job per destination. Sent ones are never sent twice."""
    now = now or timezone.now()
    pks = [upload.pk for upload in uploads]
    again = Upload.objects.filter(
        pk__in=pks, status__in=[Status.FAILED, Status.CANCELED, Status.SKIPPED]
    )
    destinations = set(again.values_list("destination", flat=True))
    count = again.update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, last_error="", updated_at=now
    )
    for destination in destinations:
        tasks.send_uploads.enqueue(destination)
    return count
