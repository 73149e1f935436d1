"""PostgreSQL for a server whose callers cannot wait: every wait on the database is bounded.

Django's PostgreSQL backend waits as long as the database takes. A database that stops
answering (a hung server, a network that drops packets, a proxy that stops forwarding) would
hold a webhook until the worker is killed, long after Twilio has given up on it. So:

- every round trip on an open connection (a statement, a COMMIT) has a limit on the client's
  side: `DB_STATEMENT_TIMEOUT_MS` plus a margin (the server should have cancelled by then), and
  `WEBHOOK_DB_TIMEOUT` while a webhook runs (`wait_limit`). A connection that overstays it is
  closed and the operation fails like a refused one, so the webhook answers from the routing
  cache and spools its event;
- after a connection fails or times out, the process stops trying for `DB_RETRY_SECONDS`:
  further requests fail at once instead of each waiting out a connect timeout (`ENGINE`
  `calltracking.postgresql`, see base.py).

libpq's TCP keepalives and `tcp_user_timeout` (settings) notice a dead peer on an idle
connection, or data the network never acknowledges; the limits here cover the rest.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar

_limit: ContextVar[float | None] = ContextVar("database_wait_limit", default=None)


@contextlib.contextmanager
def wait_limit(seconds: float) -> Iterator[None]:
    """Bound every database wait in this block (and the connect) to `seconds`."""
    token = _limit.set(seconds)
    try:
        yield
    finally:
        _limit.reset(token)


def current_limit() -> float | None:
    return _limit.get()


class Breaker:
    """After a failure, refuse new connections at once for a while (per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._closed_until

    def trip(self, seconds: float) -> None:
        with self._lock:
            self._closed_until = max(self._closed_until, time.monotonic() + seconds)

    def reset(self) -> None:
        with self._lock:
            self._closed_until = 0.0


breaker = Breaker()
