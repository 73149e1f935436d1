"""Reads and writes of whole rows in as few round trips to the database as it allows.

Every webhook runs while a caller waits, and every statement it sends is a round trip, which
under load costs more than the ORM's convenience is worth. So the webhooks' hot path reads a
call with its campaign and legs in one SELECT, and writes whatever changed in one statement:
PostgreSQL runs several INSERTs or UPDATEs as one, each in a WITH clause; SQLite, which has
no round trips to save, runs them one after another. The locked read and the write make one
transaction in two round trips (`Transaction`), where Django's would take four.

The SQL is built from the models' metadata, and values go in and out through the fields' and
the backend's own conversions, so the instances read here are those the ORM would build.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


class Columns:
    """The concrete columns of `model` under a table alias, and the instance their values make."""

    def __init__(self, model: type[models.Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.table = f"{quote(model._meta.db_table)} {alias}"
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.sql = ", ".join(f"{alias}.{quote(field.column)}" for field in self.fields)
        self._pk = self.fields.index(model._meta.pk)
        self._converters: list[tuple[int, list, Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def column(self, name: str) -> str:
        return f"{self.alias}.{quote(self.model._meta.get_field(name).column)}"

    def instance(self, row: Sequence[Any], start: int = 0) -> models.Model | None:
        """The instance of the values in `row` from `start` on, in column order; None for an
        outer join's no match."""
        values = list(row[start : start + len(self.fields)])
        if values[self._pk] is None:
            return None
        current = connections[DEFAULT_DB_ALIAS]
        for position, converters, column in self._conversions():
            value = values[position]
            for converter in converters:
                value = converter(value, column, current)
            values[position] = value
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)

    def _conversions(self) -> list[tuple[int, list, Any]]:
        # As the ORM's compiler does: the backend's converters (SQLite's text datetimes, say),
        # then the field's own. Worked out once, on first use.
        if self._converters is None:
            conversions = []
            for position, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                converters = connection.ops.get_db_converters(column) + column.get_db_converters(
                    connection
                )
                if converters:
                    conversions.append((position, converters, column))
            self._converters = conversions
        return self._converters


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list[Any]


def _db_values(fields: Iterable[models.Field], row: models.Model, add: bool) -> list[Any]:
    # The connection itself, not its per-thread proxy: one lookup instead of one per field.
    current = connections[DEFAULT_DB_ALIAS]
    return [field.get_db_prep_save(field.pre_save(row, add), current) for field in fields]


@functools.cache
def _insert_sql(
    model: type[models.Model], count: int, keyed: bool = False
) -> tuple[str, tuple[models.Field, ...]]:
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if keyed or field is not meta.auto_field)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * count)
    # A retry of a row keyed by the database is skipped; a row of our own key already there
    # is an error, never another row taken for ours.
    skip = "" if keyed else " ON CONFLICT DO NOTHING"
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}{skip}"
    return sql, fields


def insert_new(rows: Sequence[models.Model], *, keyed: bool = False) -> Statement:
    """INSERT of `rows` (all of one model) that skips each row a unique constraint already
    holds, so a retried webhook inserts nothing twice. Primary keys are the database's; with
    `keyed`, the rows' own (drawn by `next_keys`), and a row already there is an error."""
    sql, fields = _insert_sql(type(rows[0]), len(rows), keyed)
    return Statement(sql, [value for row in rows for value in _db_values(fields, row, True)])


@functools.cache
def _update_sql(
    model: type[models.Model], names: tuple[str, ...]
) -> tuple[str, tuple[models.Field, ...]]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    return sql, fields


def update(row: models.Model, names: Iterable[str]) -> Statement:
    """UPDATE of the fields `names` of one saved row, by its primary key, and of its auto_now
    fields (a call's updated_at), which save() would stamp too."""
    names = tuple(names)
    stamped = tuple(
        field.name
        for field in type(row)._meta.concrete_fields
        if getattr(field, "auto_now", False) and field.name not in names
    )
    sql, fields = _update_sql(type(row), names + stamped)
    return Statement(sql, [*_db_values(fields, row, False), row.pk])


def update_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[models.Model],
    *,
    not_behind: Sequence[str] = (),
    ahead: Sequence[str] = (),
) -> list[Statement]:
    """UPDATE of the fields `names` of saved rows, each by its primary key, that leaves a row
    alone where a field of `not_behind` would go backwards (a later write got there first), or
    one of `ahead` would not go forwards (a peak, say: an equal one is not written again).
    On PostgreSQL one statement for all the rows; SQLite runs one per row."""
    if not rows:
        return []
    meta = model._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    fields = [meta.get_field(name) for name in names]
    conditions = [(name, "<=") for name in not_behind] + [(name, "<") for name in ahead]
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        guards = "".join(
            f" AND {quote(meta.get_field(name).column)} {op} %s" for name, op in conditions
        )
        where = f" WHERE {pk} = %s{guards}"
        statements = []
        for row in rows:
            values = _db_values(fields, row, False)
            bounds = [values[list(names).index(name)] for name, _ in conditions]
            statements.append(
                Statement(f"UPDATE {table} SET {assignments}{where}", [*values, row.pk, *bounds])
            )
        return statements
    # VALUES' parameters have no type of their own: each column is cast to its field's.
    typed = {
        field.name: f"CAST(d.c{n} AS {field.db_type(connection)})" for n, field in enumerate(fields)
    }
    assignments = ", ".join(f"{quote(field.column)} = {typed[field.name]}" for field in fields)
    guards = "".join(
        f" AND {table}.{quote(meta.get_field(name).column)} {op} {typed[name]}"
        for name, op in conditions
    )
    row_sql = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    columns = ", ".join(["pk", *(f"c{n}" for n in range(len(fields)))])
    return [
        Statement(
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(rows))})"
            f" AS d({columns}) WHERE {table}.{pk} = CAST(d.pk AS {meta.pk.rel_db_type(connection)})"
            f"{guards}",
            [value for row in rows for value in [row.pk, *_db_values(fields, row, False)]],
        )
    ]


def insert_selected(
    model: type[models.Model], names: Sequence[str], rows: models.QuerySet
) -> Statement:
    """INSERT into `model`'s fields `names` of what the query `rows` selects (its columns in
    the same order), skipping each row a unique constraint already holds: a row computed from
    other tables by the database, in the same round trip as the statements run with it."""
    meta = model._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    select, params = rows.query.get_compiler(connection=connection).as_sql()
    # The SELECT always has a WHERE clause, which SQLite needs to read ON CONFLICT as such.
    return Statement(
        f"INSERT INTO {quote(meta.db_table)} ({columns}) {select} ON CONFLICT DO NOTHING",
        list(params),
    )


class Prepared:
    """A statement the ORM builds once per database and shape, then bound to each call's values.

    Compiling a query with joins, conditions and a dozen expressions costs the ORM milliseconds
    of Python, many times what running it costs; only the values differ from call to call. So
    `build` is compiled once with stand-in values (unmistakable ones, each a `field`'s value),
    the positions of their parameters are noted, and each `bind` puts the real values there.
    """

    def __init__(
        self,
        build: Callable[..., Statement],
        stand_ins: dict[str, tuple[Any, models.Field]],
    ) -> None:
        self.build = build
        self.stand_ins = stand_ins
        self._compiled: dict[str, tuple[Statement, dict[int, str]]] = {}

    def _compile(self) -> tuple[Statement, dict[int, str]]:
        statement = self.build(**{name: value for name, (value, _) in self.stand_ins.items()})
        prepared = {
            name: field.get_db_prep_value(value, connection, prepared=False)
            for name, (value, field) in self.stand_ins.items()
        }
        slots = {
            position: name
            for position, param in enumerate(statement.params)
            for name, value in prepared.items()
            if param == value
        }
        missing = set(self.stand_ins) - set(slots.values())
        if missing:
            raise ValueError(f"stand-ins not found among the statement's parameters: {missing}")
        return statement, slots

    def bind(self, **values: Any) -> Statement:
        # One compilation per database vendor: tests may switch, a server never does.
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile()
        statement, slots = compiled
        params = list(statement.params)
        for position, name in slots.items():
            field = self.stand_ins[name][1]
            params[position] = field.get_db_prep_value(values[name], connection, prepared=False)
        return Statement(statement.sql, params)


def draws_keys() -> bool:
    """Whether `next_keys` can draw keys here: PostgreSQL's sequences can, SQLite cannot."""
    return connection.vendor == "postgresql"


# Keys drawn ahead and not used yet, by table. A process draws a block of them at a time, so
# that most new rows need no round trip for their key; a key never used leaves a gap in the
# sequence, as a rolled-back INSERT does.
KEY_BLOCK = 32
_reserve: dict[str, list[int]] = {}


def next_keys(*rows: type[models.Model]) -> list[int]:
    """A primary key for a new row of each model named (once per row), from this process's
    reserve of keys drawn from the models' sequences (a round trip that writes nothing, once
    a block): rows that refer to each other, or a key that must be known before its row can
    be written, then go in one statement, one commit. PostgreSQL only (`draws_keys`)."""
    keys = []
    for model in rows:
        reserve = _reserve.setdefault(model._meta.db_table, [])
        if not reserve:
            # Drawn in order and taken from the end: the lowest first.
            reserve.extend(reversed(_draw(model, KEY_BLOCK)))
        keys.append(reserve.pop())
    return keys


def _draw(model: type[models.Model], count: int) -> list[int]:
    # The table's name is read as SQL reads names (quoted, it is taken as it is); the column's
    # is taken as it is.
    rows = fetch(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [quote(model._meta.db_table), model._meta.pk.column, count],
    )
    return [key for (key,) in rows]


def forget_keys() -> None:
    """Drop the keys drawn ahead (a test whose database's sequences start again)."""
    _reserve.clear()


def unflushed(statement: Statement) -> Statement:
    """`statement` (an UPDATE or INSERT) as a write whose commit need not wait for the disk.

    On PostgreSQL, run alone (autocommit), its transaction turns `synchronous_commit` off for
    itself as it writes, so it commits without waiting for the WAL flush, in the same round trip
    (a SET LOCAL would take three more: BEGIN, SET, COMMIT). A crash may lose the last fraction
    of a second of such writes, never a durable one. Inside a transaction the setting would
    reach the transaction's other writes: the statement is then left as it is.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return statement
    return Statement(
        f"{statement.sql} RETURNING set_config('synchronous_commit', 'off', true)",
        statement.params,
    )


def _combined(statements: Sequence[Statement]) -> Statement:
    """PostgreSQL's one statement of several: each but the last in a WITH clause."""
    *first, last = statements
    prefix = ", ".join(f"s{n} AS ({each.sql})" for n, each in enumerate(first))
    return Statement(
        f"WITH {prefix} {last.sql}" if first else last.sql,
        [param for each in statements for param in each.params],
    )


def run(statements: Sequence[Statement]) -> None:
    """Run the statements in order; on PostgreSQL as one statement (one round trip), whose
    parts all succeed or all fail. Elsewhere, atomic only inside the caller's transaction."""
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            combined = _combined(statements)
            cursor.execute(combined.sql, combined.params)
        else:
            for each in statements:
                cursor.execute(each.sql, each.params)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Transaction:
    """A transaction of reads followed by one write, in two round trips on PostgreSQL.

    Django's transaction costs four: BEGIN, the read, the write and COMMIT each wait for the
    server. Here BEGIN is sent with the first read and COMMIT with the write, each pair in
    psycopg's pipeline mode (both sent, then one wait for both answers), keeping the prepared
    statements a combined string of statements would lose. So nothing but these reads and this
    write may run inside: no ORM transaction, no second write. Without a write, leaving the
    block commits. Elsewhere (SQLite, or inside a transaction already) it is an ordinary atomic
    block, with the same methods; so is it when not `brief`, for a change that writes more than
    once or through the ORM.
    """

    def __init__(self, *, brief: bool = True) -> None:
        self._brief = brief
        self._atomic: transaction.Atomic | None = None
        self._open = False
        self._written = False

    def __enter__(self) -> Transaction:
        if not self._brief or connection.vendor != "postgresql" or connection.in_atomic_block:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        if self._atomic is not None:
            return self._atomic.__exit__(kind, error, traceback)
        if self._open:
            self._open = False
            try:
                with connection.cursor() as cursor:
                    cursor.execute("COMMIT" if kind is None else "ROLLBACK")
            except DatabaseError:
                # The connection broke mid-transaction: it must not serve another request.
                connection.close()
                if kind is None:
                    raise
        return None

    def fetch(self, query: str, params: Sequence[Any]) -> list[tuple]:
        if self._atomic is not None:
            return fetch(query, params)
        self._check()
        with connection.cursor() as cursor:
            if self._open:
                cursor.execute(query, params)
            else:
                self._open = True  # from here on, a failure leaves a transaction to roll back
                _pipelined(cursor, [_BEGIN, Statement(query, list(params))])
            return cursor.fetchall()

    def run(self, statements: Sequence[Statement]) -> None:
        """The write, which ends the transaction on PostgreSQL."""
        if self._atomic is not None or not statements:
            run(statements)
            return
        self._check()
        begin = [] if self._open else [_BEGIN]
        self._open = self._written = True
        with connection.cursor() as cursor:
            _pipelined(cursor, [*begin, _combined(statements), _COMMIT])
        self._open = False

    def _check(self) -> None:
        if self._written:
            raise RuntimeError("this transaction ended with its write; nothing may follow it")


_BEGIN = Statement("BEGIN", [])
_COMMIT = Statement("COMMIT", [])


def _pipelined(cursor, statements: list[Statement]) -> None:
    """Send `statements` at once and wait once for all their answers (the cursor holds the
    last one's rows). After a failed statement the server skips the rest."""
    # The pipeline reports an error as it ends, outside Django's cursor: wrapped here, the
    # error is Django's DatabaseError like any other.
    with connection.wrap_database_errors, connection.connection.pipeline():
        for each in statements:
            cursor.execute(each.sql, each.params)
