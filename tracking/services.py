"""Writes to the call log, one function per thing Twilio tells us about a call.

Every function is keyed by the parent leg's CallSid and safe to run twice or out of order:
facts are recorded once (the first report wins) and the outcome is re-derived from all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.db import connection, models, transaction
from django.utils import timezone

from jobs import queue
from tracking import outbox, phones, sql, tasks
from tracking.models import (
    CALLBACK_OUTCOMES,
    DEFAULT_ACCEPT_DIGIT,
    BlockedCaller,
    Call,
    CallLeg,
    Campaign,
    Recording,
)

# Parent-leg statuses after which the call is over.
FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}

# Leg statuses after which a destination's phone has stopped ringing.
FINAL_LEG_STATUSES = FINAL_CALL_STATUSES


@dataclass(frozen=True)
class IncomingCall:
    sid: str
    called: str
    caller: str
    caller_name: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    stir_verstat: str = ""


@dataclass(frozen=True)
class Target:
    """A phone a call rings, as the route planned it."""

    label: str
    phone_number: str
    destination_id: int | None = None
    # An agent who is away: not rung, though the call's plan keeps their place.
    away: bool = False


def _fit(model: type[models.Model], field: str, value: str) -> str:
    """Cut a value to its column: Twilio's values are short, hostile ones need not be."""
    return value[: model._meta.get_field(field).max_length]


# Statements other apps write with a call's start (a website visit's attribution), each built
# from the call row about to be inserted; run with it, in one round trip on PostgreSQL.
StartWriter = Callable[[Call], "sql.Statement | None"]
_start_writers: list[StartWriter] = []


def register_start_writer(writer: StartWriter) -> None:
    if writer not in _start_writers:
        _start_writers.append(writer)


def call_start(
    *,
    call: IncomingCall,
    number_id: int | None,
    campaign_id: int | None,
    targets: list[Target] | tuple[Target, ...] = (),
    after_hours: bool = False,
    at: datetime | None = None,
    menu: bool = False,
    crm_name: str = "",
    crm_note: str = "",
    spam: str = "",
    screening_reason: str = "",
    line_type: str = "",
) -> None:
    """Log a new call to the number (None: unmatched) it reached, with the phones it will ring,
    and what screening found (`spam` is Call.Spam.BLOCKED for a blocked caller).

    `menu`: the caller hears the campaign's menu first; the phones are written once they
    choose (`menu_chosen`).

    A retried webhook inserts nothing: rows are keyed by CallSid (and leg position) and
    conflicts are ignored.
    """
    if not call.sid:
        return
    sid = _fit(Call, "call_sid", call.sid)
    row = Call(
        call_sid=sid,
        tracking_number_id=number_id,
        campaign_id=campaign_id,
        called_number=_fit(Call, "called_number", call.called),
        caller_number=_fit(Call, "caller_number", call.caller),
        caller_name=_fit(Call, "caller_name", call.caller_name),
        caller_city=_fit(Call, "caller_city", call.city),
        caller_state=_fit(Call, "caller_state", call.state),
        caller_zip=_fit(Call, "caller_zip", call.zip),
        caller_country=_fit(Call, "caller_country", call.country),
        forwarded_to=_fit(Call, "forwarded_to", targets[0].phone_number if targets else ""),
        after_hours=after_hours,
        started_at=at or timezone.now(),
        menu_at=(at or timezone.now()) if menu else None,
        crm_name=_fit(Call, "crm_name", crm_name),
        crm_note=_fit(Call, "crm_note", crm_note),
        stir_verstat=_fit(Call, "stir_verstat", call.stir_verstat),
        spam=spam,
        screening_reason=_fit(Call, "screening_reason", screening_reason),
        line_type=_fit(Call, "line_type", line_type),
    )
    row.outcome = row.derive_outcome([], False) if number_id else Call.Outcome.UNMATCHED
    legs = _legs(row, targets)
    # One statement on PostgreSQL. Elsewhere no transaction is needed: a retry (or the spool's
    # replay) of a start that failed between the two inserts inserts what is missing, and
    # nothing reaches a leg before the webhook answers. A listener's job (tracking.outbox) is
    # written with the call or not at all (then in a transaction); a retry writes it again,
    # and the listener makes one event of it. Other apps' statements (a website visit's
    # attribution) go with the call's own.
    extra = [statement for writer in _start_writers if (statement := writer(row))]
    writes = [sql.insert_new([row]), *([sql.insert_new(legs)] if legs else []), *extra]
    _run_with_jobs(writes, outbox.jobs(sid, outbox.STARTED))


def _legs(call: Call, targets: list[Target] | tuple[Target, ...]) -> list[CallLeg]:
    """A leg of `call` for each phone it rings, in order."""
    return [
        CallLeg(
            call_id=call.call_sid,
            position=position,
            destination_id=target.destination_id,
            label=_fit(CallLeg, "label", target.label),
            phone_number=_fit(CallLeg, "phone_number", target.phone_number),
            started_at=call.started_at,
            campaign_id=call.campaign_id,
        )
        for position, target in enumerate(targets)
    ]


def _run_with_jobs(writes: list[sql.Statement], jobs: list[outbox.Job]) -> None:
    """Run `writes` and enqueue `jobs` with them, atomically: as one statement on PostgreSQL,
    else in a transaction (the caller's, if it has one). Without jobs, as before."""
    statements, unwritten = _with_jobs(writes, jobs)
    one_statement = connection.vendor == "postgresql" and not unwritten
    alone = not jobs or one_statement or connection.in_atomic_block
    with contextlib.nullcontext() if alone else transaction.atomic():
        sql.run(statements)
        for task, args in unwritten:
            task.enqueue(*args)


def _with_jobs(
    writes: list[sql.Statement], jobs: list[outbox.Job]
) -> tuple[list[sql.Statement], list[outbox.Job]]:
    """`writes` followed by the INSERT of each job, and the jobs whose task backend is not the
    database's (tests' immediate one), which take their jobs themselves: to enqueue."""
    rows = [queue.statement(task, *args) for task, args in jobs]
    unwritten = [job for job, row in zip(jobs, rows, strict=True) if row is None]
    return [*writes, *(row for row in rows if row is not None)], unwritten


@dataclass
class _Locked:
    """A call's row, locked until the transaction ends, with its legs and their new facts."""

    call: Call
    legs: list[CallLeg]
    transaction: sql.Transaction
    changed: dict[int, set[str]] = field(default_factory=dict)
    call_changed: set[str] = field(default_factory=set)

    def leg(self, position: int | None) -> CallLeg | None:
        return next((leg for leg in self.legs if leg.position == position), None)

    def record(self, leg: CallLeg | None, **facts: object) -> None:
        if leg is not None:
            self.changed.setdefault(leg.pk, set()).update(_fill(leg, facts))


_CALL = sql.Columns(Call, "c")
_CAMPAIGN = sql.Columns(Campaign, "k")
_LEG = sql.Columns(CallLeg, "l")


@cache
def _lock_query(with_legs: bool) -> str:
    """The call with its campaign, and its legs (`with_legs`: only calls that have some).

    The call and its legs are locked, not the campaign, which is read and never written here.
    Under PostgreSQL's READ COMMITTED, a statement that waited for a lock sees the new version
    of each row it locked, but every other row as it was when the statement began: legs read
    unlocked, while another event of the call wrote them, would be out of date. (SQLite has no
    row locks: its transactions take the database's write lock as they begin.)
    """
    campaign = (
        f" LEFT JOIN {_CAMPAIGN.table} ON {_CAMPAIGN.column('id')} = {_CALL.column('campaign')}"
    )
    where = f" WHERE {_CALL.column('call_sid')} = %s"
    if not with_legs:
        lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
        return f"SELECT {_CALL.sql}, {_CAMPAIGN.sql} FROM {_CALL.table}{campaign}{where}{lock}"
    lock = " FOR UPDATE OF c, l" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {_CALL.sql}, {_CAMPAIGN.sql}, {_LEG.sql} FROM {_CALL.table}"
        f" JOIN {_LEG.table} ON {_LEG.column('call')} = {_CALL.column('call_sid')}{campaign}"
        f"{where} ORDER BY {_LEG.column('position')}{lock}"
    )


@contextlib.contextmanager
def _locked(sid: str, *, brief: bool = True) -> Iterator[_Locked]:
    """In a transaction, lock the call's row and its legs and read them with the campaign:
    one query, or two for a call that rings nobody. Call.DoesNotExist if it is not logged (yet).

    The transaction is `brief` (sql.Transaction): two round trips, whose one write is
    `_settle`'s. A change that writes more (a recording, through the ORM) takes an ordinary one.
    """
    with sql.Transaction(brief=brief) as tx:
        rows = tx.fetch(_lock_query(with_legs=True), [sid]) or tx.fetch(
            _lock_query(with_legs=False), [sid]
        )
        if not rows:
            raise Call.DoesNotExist(sid)
        call = _CALL.instance(rows[0])
        Call.campaign.field.set_cached_value(call, _CAMPAIGN.instance(rows[0], len(_CALL)))
        legs_from = len(_CALL) + len(_CAMPAIGN)
        legs = [_LEG.instance(row, legs_from) for row in rows if len(row) > legs_from]
        yield _Locked(call, legs, tx)


def _fill(row: models.Model, facts: dict[str, object]) -> list[str]:
    """Record facts not yet known on `row` (a retry never rewrites one); the fields changed."""
    changed = []
    for name, value in facts.items():
        if value is None or value == "":
            continue
        if getattr(row, name) is None or getattr(row, name) == "":
            setattr(row, name, value)
            changed.append(name)
    return changed


def _voicemail_left(call: Call) -> bool:
    if call.voicemail_at is None:
        return False
    return any(recording.is_message for recording in call.recordings.all())


def _settle(
    locked: _Locked, *, touched: bool = False, notify: bool = False, **facts: object
) -> Call:
    """Record `facts` on the call, save the legs' new facts, and re-derive every result and
    the call's summary of them, all written in one statement where the database allows
    (`touched`: the caller wrote something of the call's too, a recording say). `notify`:
    queue, in the same write, the e-mail the call may now be owed. The call returned carries
    `leg_results` (position → result), for the webhook to tell the leg it answers whether it
    took the call. A change to a leg, or `touched`, stamps the call's updated_at, so "calls
    updated since" finds it."""
    call = locked.call
    changed = locked.call_changed | set(_fill(call, facts))
    writes = []
    for leg in locked.legs:
        fields = locked.changed.get(leg.pk, set())
        result = leg.derive_result()
        if result != leg.result:
            leg.result = result
            fields.add("result")
        if fields:
            writes.append(sql.update(leg, sorted(fields)))
    taker = next((leg for leg in locked.legs if leg.result == CallLeg.Result.ACCEPTED), None)
    summary = {
        "answered_by": taker.label if taker else "",
        "decision": _best_decision(locked.legs),
        "whispered_at": min(
            (leg.whispered_at for leg in locked.legs if leg.whispered_at), default=None
        ),
    }
    for name, value in summary.items():
        if value and getattr(call, name) != value:
            setattr(call, name, value)
            changed.add(name)
    outcome = call.derive_outcome(locked.legs, _voicemail_left(call))
    if outcome != call.outcome:
        call.outcome = outcome
        changed.add("outcome")
    if changed or writes or touched:
        writes.append(sql.update(call, sorted(changed)))
    jobs = _jobs_of_change(call) if writes or touched else []
    if notify and _owed_notice(call):
        jobs.append((tasks.notify_call, (call.pk,)))
    statements, unwritten = _with_jobs(writes, jobs)
    locked.transaction.run(statements)
    for task, args in unwritten:
        task.enqueue(*args)
    call.leg_results = {leg.position: leg.result for leg in locked.legs}
    return call


def _owed_notice(call: Call) -> bool:
    """Whether `call` may owe its campaign's recipients an e-mail not yet sent (most campaigns
    have nobody to tell). A background job decides and sends it, so no caller waits on a mail
    server and no notice is lost with the process."""
    return bool(call.campaign and call.campaign.recipients and call.notified_at is None)


def _jobs_of_change(call: Call) -> list[outbox.Job]:
    """What listeners do when an ended call changed. A call in progress is told of once, at
    its start, and again when it ends."""
    return outbox.jobs(call.call_sid, outbox.CHANGED) if call.ended_at is not None else []


def _best_decision(legs: list[CallLeg]) -> str:
    decisions = {leg.decision for leg in legs if leg.decision}
    order = (
        Call.Decision.ACCEPTED,
        Call.Decision.SPAM,
        Call.Decision.REJECTED,
        Call.Decision.NO_INPUT,
    )
    for decision in order:
        if decision in decisions:
            return decision
    return ""


def menu_chosen(
    *, sid: str, choice: str, targets: list[Target] | tuple[Target, ...], at: datetime | None = None
) -> Call:
    """The caller chose a menu option: it and the phones it rings are written; a retry (or a
    second choice) changes nothing, the first choice stands."""
    with _locked(sid, brief=False) as locked:
        call = locked.call
        if not call.menu_choice and not locked.legs and targets:
            sql.run([sql.insert_new(_legs(call, targets))])
        return _settle(
            locked,
            menu_choice=_fit(Call, "menu_choice", choice),
            forwarded_to=_fit(Call, "forwarded_to", targets[0].phone_number if targets else ""),
            menu_at=at or timezone.now(),
        )


def crm_lookup_failed(*, campaign_id: int) -> None:
    """Count a failed CRM lookup, for the campaign's page."""
    Campaign.objects.filter(pk=campaign_id).update(crm_failures=models.F("crm_failures") + 1)


def leg_whispered(*, sid: str, leg: int | None, leg_sid: str, at: datetime | None = None) -> Call:
    """A destination picked up and is about to hear the whisper."""
    at = at or timezone.now()
    with _locked(sid) as locked:
        locked.record(locked.leg(leg), whispered_at=at, leg_sid=_fit(CallLeg, "leg_sid", leg_sid))
        return _settle(locked, dial_call_sid=_fit(Call, "dial_call_sid", leg_sid))


def leg_decided(*, sid: str, leg: int | None, digits: str, at: datetime | None = None) -> Call:
    """A destination pressed a key (or none) after the whisper; its first answer stands.

    When destinations ring at once, the first to accept takes the call: a later acceptance
    is recorded, but that leg is stopped, not joined.
    """
    at = at or timezone.now()
    with _locked(sid) as locked:
        decision = _decision(locked.call, digits)
        if decision != Call.Decision.SPAM:
            return _decide(locked, leg, decision, at)
    # Reported as spam by the person answering: the call is spam, and its caller goes on the
    # block list in the same transaction, through the ORM (whose signal re-caches the list).
    with _locked(sid, brief=False) as locked:
        call = _decide(locked, leg, _decision(locked.call, digits), at)
        row = locked.leg(leg)
        if row is not None and row.decision == Call.Decision.SPAM:
            caller_block(call=call, note=f"Reported as spam by {row.label or 'a destination'}")
        return call


def _decision(call: Call, digits: str) -> str:
    accept = call.campaign.accept_digit if call.campaign else DEFAULT_ACCEPT_DIGIT
    report = call.campaign.spam_report_key if call.campaign else ""
    if digits == "":
        return Call.Decision.NO_INPUT
    if digits[:1] == accept:
        return Call.Decision.ACCEPTED
    if report and digits[:1] == report:
        return Call.Decision.SPAM
    return Call.Decision.REJECTED


def _decide(locked: _Locked, leg: int | None, decision: str, at: datetime) -> Call:
    call, row = locked.call, locked.leg(leg)
    facts: dict[str, object] = {"decision": decision, "decided_at": at}
    taken = any(
        other.result == CallLeg.Result.ACCEPTED for other in locked.legs if other is not row
    )
    # Nobody is joined to a call another destination reported as spam.
    if decision == Call.Decision.ACCEPTED and (taken or call.spam):
        facts.update(dial_outcome="stopped", bridged=False)
    locked.record(row, **facts)
    if decision == Call.Decision.SPAM:
        return _settle(locked, decided_at=at, spam=Call.Spam.REPORTED)
    return _settle(locked, decided_at=at)


def caller_block(*, call: Call, note: str) -> BlockedCaller | None:
    """Put the caller of `call` on the block list (None: no number to block). The entry
    remembers the call, so clearing the call's spam mark takes it off the list again."""
    if not phones.is_e164(call.caller_number):
        return None
    entry, _ = BlockedCaller.objects.get_or_create(
        kind=BlockedCaller.Kind.NUMBER,
        value=call.caller_number,
        defaults={"note": _fit(BlockedCaller, "note", note), "reported_call_id": call.call_sid},
    )
    return entry


def leg_ended(*, sid: str, leg: int | None, leg_sid: str, leg_status: str) -> Call | None:
    """A destination's own status callback: how its phone stopped ringing."""
    if leg_status not in FINAL_LEG_STATUSES:
        return None
    with _locked(sid) as locked:
        locked.record(
            locked.leg(leg),
            status=_fit(CallLeg, "status", leg_status),
            leg_sid=_fit(CallLeg, "leg_sid", leg_sid),
        )
        return _settle(locked)


def dial_finished(
    *,
    sid: str,
    legs: list[int] | None,
    dial_status: str,
    dial_call_sid: str,
    bridged: bool | None,
    talk_seconds: int | None,
) -> Call:
    """A <Dial> ended; Twilio asks what the caller hears next.

    `legs` are the positions that <Dial> rang. The leg Twilio names (or the only one) ended as
    the <Dial> did. The others, unless their own callbacks said first, rang without answering
    or were stopped when one was joined; a key press they report later still counts, so none
    of them is marked unbridged here.
    """
    with _locked(sid) as locked:
        dialed = [leg for leg in locked.legs if legs is None or leg.position in legs]
        for leg in dialed:
            if len(dialed) == 1 or (dial_call_sid and leg.leg_sid == dial_call_sid):
                locked.record(leg, dial_outcome=_fit(CallLeg, "dial_outcome", dial_status))
                locked.record(leg, bridged=bridged)
            elif dial_status == "canceled" or leg.whispered_at is not None:
                locked.record(
                    leg, dial_outcome="canceled" if dial_status == "canceled" else "completed"
                )
            elif dial_status in FINAL_LEG_STATUSES - {"completed"}:
                locked.record(leg, dial_outcome=dial_status)
            else:
                locked.record(leg, dial_outcome="stopped")
        # The call shows its last <Dial> (the one that rang the furthest destination), whatever
        # order the <Dial>s' reports come in.
        earlier = [leg.position for leg in locked.legs if leg.dial_outcome and leg not in dialed]
        if not dialed or max(leg.position for leg in dialed) >= max(earlier, default=-1):
            last = {
                "dial_status": _fit(Call, "dial_status", dial_status),
                "dial_call_sid": _fit(Call, "dial_call_sid", dial_call_sid),
                "dial_bridged": bridged,
                "talk_seconds": talk_seconds,
            }
            for name, value in last.items():
                if value is not None and value != "":
                    setattr(locked.call, name, value)
                    locked.call_changed.add(name)
        return _settle(locked)


def voicemail_started(*, sid: str, at: datetime | None = None) -> Call:
    """The caller is hearing the voicemail greeting."""
    with _locked(sid) as locked:
        return _settle(locked, voicemail_at=at or timezone.now())


def recording_stored(
    *,
    sid: str,
    recording_sid: str,
    kind: str,
    url: str = "",
    duration_seconds: int | None = None,
    status: str = "",
    at: datetime | None = None,
    notify: bool = True,
) -> Call | None:
    """Twilio has a recording of the call (a voicemail or the conversation); keyed by its SID,
    so the <Record> action and the recording callback, each maybe retried, make one row.

    `notify=False` leaves the e-mail to the recording callback (or the sweep): a caller waits
    on the <Record> action's answer, and must not wait on a mail server."""
    if not recording_sid or kind not in Recording.Kind.values:
        return None
    with _locked(sid, brief=False) as locked:
        recording, created = Recording.objects.get_or_create(
            recording_sid=_fit(Recording, "recording_sid", recording_sid),
            defaults={
                "call_id": locked.call.call_sid,
                "kind": kind,
                "created_at": at or timezone.now(),
            },
        )
        if recording.call_id != locked.call.call_sid:
            return None
        changed = _fill(
            recording,
            {
                "url": _fit(Recording, "url", url),
                "duration_seconds": duration_seconds,
                "status": _fit(Recording, "status", status),
            },
        )
        if changed:
            recording.save(update_fields=changed)
        # The message itself shows the caller reached voicemail, should that report be late.
        voicemail_at = recording.created_at if kind == Recording.Kind.VOICEMAIL else None
        return _settle(
            locked, touched=bool(changed) or created, notify=notify, voicemail_at=voicemail_at
        )


def transcription_stored(*, sid: str, recording_sid: str, text: str, status: str) -> Call | None:
    """Twilio's text of a voicemail; its first report stands."""
    with _locked(sid, brief=False) as locked:
        recording = Recording.objects.filter(
            call_id=locked.call.call_sid, recording_sid=recording_sid
        ).first()
        if recording is None:
            raise Recording.DoesNotExist(recording_sid)
        changed = _fill(
            recording,
            {
                "transcription": text,
                "transcription_status": _fit(Recording, "transcription_status", status),
            },
        )
        if changed:
            recording.save(update_fields=changed)
        return _settle(locked, touched=bool(changed), notify=True)


def call_status_changed(
    *, sid: str, call_status: str, duration_seconds: int | None, at: datetime | None
) -> Call | None:
    """The parent leg's status callback; only its final statuses change the row."""
    if call_status not in FINAL_CALL_STATUSES:
        return None
    with _locked(sid) as locked:
        return _settle(
            locked,
            notify=True,
            call_status=call_status,
            duration_seconds=duration_seconds,
            ended_at=at or timezone.now(),
        )


def call_mark_called_back(*, call_id: int, by: str, at: datetime | None = None) -> bool:
    """Take a missed call or voicemail off the call-back list, once: a second click (or a
    colleague's at the same moment) changes nothing. True when this request marked it."""
    return bool(
        Call.objects.filter(
            pk=call_id, outcome__in=CALLBACK_OUTCOMES, callback_done_at__isnull=True
        ).update(callback_done_at=at or timezone.now(), callback_done_by=by[:150])
    )
