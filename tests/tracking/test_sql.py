"""The hot path's hand-built SQL: rows read back as the ORM reads them, writes in one statement
on PostgreSQL that all succeed or all fail, retries that insert nothing twice."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from psycopg import pq

from tests.whisper.steps import incoming
from tracking import sql
from tracking.models import Call, CallLeg, Campaign

STARTED = datetime(2026, 11, 24, 18, 30, 15, 123456, tzinfo=UTC)


def _call(sid: str = "CA1", **fields) -> Call:
    return Call(call_sid=sid, caller_number="+13125550123", started_at=STARTED, **fields)


def _read(sid: str) -> tuple[Call, Campaign | None]:
    calls, campaigns = sql.Columns(Call, "c"), sql.Columns(Campaign, "k")
    rows = sql.fetch(
        f"SELECT {calls.sql}, {campaigns.sql} FROM {calls.table}"
        f" LEFT JOIN {campaigns.table} ON {campaigns.column('id')} = {calls.column('campaign')}"
        f" WHERE {calls.column('call_sid')} = %s",
        [sid],
    )
    return calls.instance(rows[0]), campaigns.instance(rows[0], len(calls))


@pytest.mark.django_db
def test_a_row_reads_back_as_the_orm_reads_it(campaign):
    sql.run(
        [
            sql.insert_new(
                [_call(campaign=campaign, dial_bridged=False, talk_seconds=30, after_hours=True)]
            )
        ]
    )

    call, joined = _read("CA1")

    orm = Call.objects.get(call_sid="CA1")
    assert model_to_dict(call) == model_to_dict(orm)
    assert (call.pk, call.updated_at) == (orm.pk, orm.updated_at)
    # Booleans as booleans, times aware (SQLite keeps them as text and integers).
    assert call.dial_bridged is False and call.after_hours is True
    assert call.started_at == STARTED and call.started_at.tzinfo is not None
    assert model_to_dict(joined) == model_to_dict(Campaign.objects.get())


@pytest.mark.django_db
def test_an_outer_join_that_matched_nothing_reads_as_none(db):
    sql.run([sql.insert_new([_call()])])

    call, campaign = _read("CA1")

    assert call.call_sid == "CA1"
    assert campaign is None


@pytest.mark.django_db
def test_an_insert_skips_rows_already_there_and_inserts_the_rest(db):
    sql.run([sql.insert_new([_call("CA1", caller_name="First")])])

    sql.run([sql.insert_new([_call("CA1", caller_name="Retry"), _call("CA2")])])

    assert dict(Call.objects.values_list("call_sid", "caller_name")) == {
        "CA1": "First",
        "CA2": "",
    }


@pytest.mark.django_db
def test_an_update_writes_the_named_fields_and_stamps_the_row(db):
    sql.run([sql.insert_new([_call()])])
    call = Call.objects.get()
    before = call.updated_at
    call.outcome, call.caller_name = Call.Outcome.ACCEPTED, "Not saved"

    sql.run([sql.update(call, ["outcome", "updated_at"])])

    saved = Call.objects.get()
    assert (saved.outcome, saved.caller_name) == (Call.Outcome.ACCEPTED, "")
    assert saved.updated_at > before


@pytest.mark.django_db
def test_a_call_and_its_legs_are_inserted_in_one_statement_on_postgresql(
    db, django_assert_num_queries
):
    call = _call()
    legs = [CallLeg(call_id="CA1", position=n, phone_number=f"+1512555019{n}") for n in (0, 1)]
    statements = 1 if connection.vendor == "postgresql" else 2

    with django_assert_num_queries(statements):
        sql.run([sql.insert_new([call]), sql.insert_new(legs)])

    assert list(CallLeg.objects.values_list("call_id", "position")) == [("CA1", 0), ("CA1", 1)]


@pytest.mark.django_db(transaction=True)
def test_writes_run_together_all_fail_together(db):
    # PostgreSQL runs them as one statement, atomic in itself; elsewhere it takes the caller's
    # transaction.
    together = nullcontext() if connection.vendor == "postgresql" else transaction.atomic()
    sql.run([sql.insert_new([_call("CA1"), _call("CA2")])])
    first, second = Call.objects.order_by("call_sid")
    first.outcome = Call.Outcome.ACCEPTED
    second.call_sid = "CA1"  # breaks the unique call SID: the whole write must be refused

    with pytest.raises(IntegrityError), together:
        sql.run([sql.update(first, ["outcome"]), sql.update(second, ["call_sid"])])

    assert set(Call.objects.values_list("call_sid", "outcome")) == {
        ("CA1", Call.Outcome.IN_PROGRESS),
        ("CA2", Call.Outcome.IN_PROGRESS),
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db
def test_webhooks_reuse_prepared_statements_on_postgresql(twilio, number):
    for n in range(8):
        incoming(twilio, sid=f"CA{n}")

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("tracking_trackingnumber" in statement for statement in prepared), prepared
    assert any("INSERT INTO" in statement for statement in prepared), prepared


def _calls_from(*, caller: str, since: datetime) -> sql.Statement:
    rows = Call.objects.filter(caller_number=caller, started_at__gte=since).values_list("call_sid")
    select, params = rows.query.get_compiler(connection=connection).as_sql()
    return sql.Statement(select, list(params))


CALLS_FROM = {
    "caller": ("+0-stand-in", Call._meta.get_field("caller_number")),
    "since": (datetime(1901, 1, 1, tzinfo=UTC), Call._meta.get_field("started_at")),
}


@pytest.mark.django_db
def test_a_prepared_statement_is_built_once_and_bound_to_each_calls_values(db):
    built = []

    def build(**values):
        built.append(values)
        return _calls_from(**values)

    statement = sql.Prepared(build, CALLS_FROM)
    later = STARTED + timedelta(minutes=30)
    sql.run(
        [
            sql.insert_new(
                [
                    _call("CA1"),
                    Call(call_sid="CA2", caller_number="+13125550123", started_at=later),
                    Call(call_sid="CA3", caller_number="+13125550999", started_at=later),
                ]
            )
        ]
    )

    def sids(**values):
        bound = statement.bind(**values)
        return sorted(sid for (sid,) in sql.fetch(bound.sql, bound.params))

    assert sids(caller="+13125550123", since=STARTED) == ["CA1", "CA2"]
    assert sids(caller="+13125550123", since=later) == ["CA2"]
    assert sids(caller="+13125550999", since=STARTED) == ["CA3"]
    assert len(built) == 1


def test_a_stand_in_the_statement_does_not_carry_is_an_error(db):
    statement = sql.Prepared(
        lambda **values: sql.Statement("SELECT 1", []),
        {"caller": CALLS_FROM["caller"]},
    )
    with pytest.raises(ValueError, match="caller"):
        statement.bind(caller="+13125550123")


@pytest.mark.django_db(transaction=True)
def test_an_unflushed_write_commits_alone_without_waiting_for_the_disk():
    sql.run([sql.insert_new([_call("CA1")])])
    row = Call.objects.get(call_sid="CA1")
    row.talk_seconds = 30
    alone = sql.unflushed(sql.update(row, ["talk_seconds"]))
    with transaction.atomic():
        # Inside a transaction the setting would reach its other writes: left as it is.
        assert sql.unflushed(sql.update(row, ["talk_seconds"])).sql == (
            sql.update(row, ["talk_seconds"]).sql
        )
    sql.run([alone])
    assert Call.objects.get(call_sid="CA1").talk_seconds == 30
    if connection.vendor == "postgresql":
        assert alone.sql.endswith("RETURNING set_config('synchronous_commit', 'off', true)")
        with connection.cursor() as cursor:
            # The setting was the write's own transaction's, not the connection's.
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)


# A transaction in two round trips -----------------------------------------------------------

_LOCK = "SELECT talk_seconds FROM tracking_call WHERE call_sid = %s" + (
    " FOR UPDATE" if connection.vendor == "postgresql" else ""
)


@contextmanager
def connections_other() -> Iterator[psycopg.Cursor]:
    """A cursor on a connection of its own, in autocommit: another request's view."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        yield other.cursor()


@contextmanager
def round_trips() -> Iterator[list[int]]:
    """Count the round trips to PostgreSQL in the block: the server's ReadyForQuery messages
    in libpq's protocol trace (one after each Sync or simple query)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    count: list[int] = []
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            yield count
        finally:
            pgconn.untrace()
            trace.seek(0)
            count.append(sum("ReadyForQuery" in line for line in trace))


def _add_seconds(sid: str, seconds: int) -> None:
    with sql.Transaction() as tx:
        (talk,) = tx.fetch(_LOCK, [sid])[0]
        row = Call.objects.get(call_sid=sid)
        row.talk_seconds = (talk or 0) + seconds
        tx.run([sql.update(row, ["talk_seconds"])])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="round trips to PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_read_and_a_write_take_two_round_trips_and_commit():
    sql.run([sql.insert_new([_call("CA1")])])
    row = Call.objects.get(call_sid="CA1")

    with round_trips() as trips, sql.Transaction() as tx:
        assert tx.fetch(_LOCK, ["CA1"]) == [(None,)]
        assert connection.connection.info.transaction_status == pq.TransactionStatus.INTRANS
        row.talk_seconds = 30
        tx.run([sql.update(row, ["talk_seconds"])])
        # Committed with the write: another connection sees it before the block ends.
        with connections_other() as other:
            other.execute("SELECT talk_seconds FROM tracking_call WHERE call_sid = 'CA1'")
            assert other.fetchone() == (30,)
        with pytest.raises(RuntimeError, match="ended with its write"):
            tx.run([sql.update(row, ["talk_seconds"])])

    assert trips == [2]
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE


@pytest.mark.skipif(connection.vendor != "postgresql", reason="round trips to PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_or_a_failure_after_the_read_rolls_back_and_unlocks():
    sql.run([sql.insert_new([_call("CA1"), _call("CA2")])])
    first, second = Call.objects.order_by("call_sid")
    first.talk_seconds = 30
    second.call_sid = "CA1"  # breaks the unique call SID: the whole write must be refused

    with pytest.raises(IntegrityError), sql.Transaction() as tx:
        tx.fetch(_LOCK, ["CA1"])
        tx.run([sql.update(first, ["talk_seconds"]), sql.update(second, ["call_sid"])])
    with pytest.raises(LookupError), sql.Transaction() as tx:
        tx.fetch(_LOCK, ["CA2"])
        raise LookupError

    # Nothing written, nothing left locked, and the connection serves the next request.
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    assert set(Call.objects.values_list("call_sid", "talk_seconds")) == {
        ("CA1", None),
        ("CA2", None),
    }
    with connections_other() as other:
        other.execute("SELECT 1 FROM tracking_call FOR UPDATE NOWAIT")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_read_modify_writes_lose_no_update():
    sql.run([sql.insert_new([_call("CA1")])])
    start = threading.Barrier(4)

    def add() -> None:
        try:
            start.wait()
            for _ in range(10):
                _add_seconds("CA1", 1)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Call.objects.get(call_sid="CA1").talk_seconds == 40


@pytest.mark.django_db
def test_inside_a_transaction_it_is_a_part_of_it():
    sql.run([sql.insert_new([_call("CA1")])])
    with pytest.raises(LookupError), transaction.atomic():
        _add_seconds("CA1", 30)
        assert Call.objects.get(call_sid="CA1").talk_seconds == 30
        raise LookupError
    assert Call.objects.get(call_sid="CA1").talk_seconds is None


@pytest.mark.django_db
def test_rows_are_updated_together_and_never_moved_backwards(campaign):
    sql.run([sql.insert_new([_call("CA1"), _call("CA2"), _call("CA3")])])
    calls = {call.call_sid: call for call in Call.objects.all()}
    for sid, talk in (("CA1", 30), ("CA2", 40), ("CA3", 50)):
        calls[sid].talk_seconds = talk
    sql.run(sql.update_rows(Call, ["talk_seconds"], list(calls.values())))
    # CA2 is further on than this write would take it: it is left alone.
    calls["CA1"].talk_seconds, calls["CA2"].talk_seconds = 35, 20
    statements = sql.update_rows(
        Call, ["talk_seconds"], [calls["CA1"], calls["CA2"]], not_behind=["talk_seconds"]
    )
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    sql.run(statements)
    assert dict(Call.objects.values_list("call_sid", "talk_seconds")) == {
        "CA1": 35,
        "CA2": 40,
        "CA3": 50,
    }
    assert sql.update_rows(Call, ["talk_seconds"], []) == []


@pytest.mark.django_db
def test_a_write_that_must_move_a_field_ahead_leaves_an_equal_one_alone(campaign):
    sql.run([sql.insert_new([_call("CA1", talk_seconds=30), _call("CA2", talk_seconds=30)])])
    first, second = Call.objects.order_by("call_sid")
    stamped = {call.call_sid: call.updated_at for call in (first, second)}
    first.talk_seconds, second.talk_seconds = 30, 31

    sql.run(
        sql.update_rows(
            Call, ["talk_seconds", "updated_at"], [first, second], ahead=["talk_seconds"]
        )
    )

    # The equal one is not written again (its updated_at stands); the one ahead is.
    rows = {call.call_sid: call for call in Call.objects.all()}
    assert rows["CA1"].updated_at == stamped["CA1"]
    assert (rows["CA2"].talk_seconds, rows["CA2"].updated_at > stamped["CA2"]) == (31, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's sequences")
@pytest.mark.django_db
def test_keys_drawn_ahead_let_rows_that_refer_to_each_other_go_in_one_statement(campaign):
    from tracking.models import TrackingNumber

    assert sql.draws_keys()
    call_key, number_key = sql.next_keys(Call, TrackingNumber)
    number = TrackingNumber(pk=number_key, phone_number="+15125550177", campaign=campaign)
    call = _call(pk=call_key, tracking_number=number, campaign=campaign)
    sql.run([sql.insert_new([call], keyed=True), sql.insert_new([number], keyed=True)])

    assert Call.objects.get(pk=call_key).tracking_number_id == number_key
    # The database's own keys go on past the ones drawn.
    assert Call.objects.create(call_sid="CA2", started_at=STARTED).pk > call_key
    later = TrackingNumber.objects.create(phone_number="+15125550178", campaign=campaign)
    assert later.pk > number_key


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's sequences")
@pytest.mark.django_db
def test_keys_are_drawn_a_block_at_a_time(db):
    sql.forget_keys()
    with CaptureQueriesContext(connection) as captured:
        keys = [key for _ in range(sql.KEY_BLOCK) for key in sql.next_keys(Call)]
    assert len(captured.captured_queries) == 1
    assert keys == sorted(set(keys))
    with CaptureQueriesContext(connection) as captured:
        (following,) = sql.next_keys(Call)
    assert len(captured.captured_queries) == 1 and following > keys[-1]
