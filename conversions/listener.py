"""The call log's listener (tracking.outbox): a write to an ended call becomes one job that
works out, off the caller's path, whether the call is a qualified lead to upload. With no
destination configured it asks for nothing, and costs the write no query."""

from __future__ import annotations

from conversions import config
from tracking import outbox


class _Listener:
    def wants(self, kind: str) -> bool:
        return kind == outbox.CHANGED and bool(config.destinations())

    def jobs(self, call_sid: str, kind: str) -> list[outbox.Job]:
        from conversions import tasks

        return [(tasks.consider_call, (call_sid,))]


listener = _Listener()
