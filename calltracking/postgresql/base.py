"""Django's PostgreSQL backend with bounded waits (see the package's docstring)."""

from __future__ import annotations

import math

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg.connection import _WAIT_INTERVAL

from calltracking.postgresql import breaker, current_limit

# libpq's shortest connect timeout.
_MIN_CONNECT_TIMEOUT = 2


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the server has a limit."""

    default_limit: float | None = None

    def wait(self, gen, interval=_WAIT_INTERVAL, timeout=None):
        limit = current_limit() or self.default_limit
        if timeout is not None or limit is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except psycopg.errors._WaitTimeout:  # what psycopg's wait raises at `timeout`
            # The server may be half-way through anything: this connection is done for.
            self.pgconn.finish()
            breaker.trip(settings.DB_RETRY_SECONDS)
            raise psycopg.OperationalError(
                f"the database did not answer within {limit:g} s; connection closed"
            ) from None


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        if breaker.is_open():
            raise psycopg.OperationalError(
                "the database failed moments ago; not retrying yet (DB_RETRY_SECONDS)"
            )
        limit = current_limit()
        if limit is not None:
            conn_params = {
                **conn_params,
                "connect_timeout": max(_MIN_CONNECT_TIMEOUT, math.ceil(limit)),
            }
        try:
            connection = BoundedConnection.connect(**conn_params)
        except psycopg.OperationalError:
            breaker.trip(settings.DB_RETRY_SECONDS)
            raise
        statement_timeout = settings.DB_STATEMENT_TIMEOUT_MS / 1000
        # Beyond the server's own statement timeout, plus a margin for the round trip.
        connection.default_limit = statement_timeout + 2 if statement_timeout > 0 else None
        self.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        isolation = self.settings_dict["OPTIONS"].get("isolation_level")
        if isolation is not None:
            self.isolation_level = psycopg.IsolationLevel(isolation)
            connection.isolation_level = self.isolation_level
        return connection
