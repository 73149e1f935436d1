"""Call events: written to the call log at once, or kept in a durable local spool when the
database cannot take them, and replayed from there once it can.

Each spooled event is one JSON file, written to a temporary name, flushed to disk and renamed
into the spool, so a crash leaves either the whole event or nothing. `drain()` replays events in
the order they happened through the same idempotent services the webhooks use, so an event
replayed twice (or one that did reach the database after all) changes nothing.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, close_old_connections
from django.utils import timezone

from tracking import screening, services
from tracking.models import Call, Recording

logger = logging.getLogger(__name__)

# An event whose call never shows up (a status for a call that was never logged) is dropped
# after this long, with a log line, so the spool cannot fill up with orphans.
ORPHAN_AGE = timedelta(days=2)
RETRY_SECONDS = 5.0

_sequence = itertools.count()


# Every event a webhook reports, and the idempotent service that writes it.
SERVICES: dict[str, Callable[..., Call | None]] = {
    "start": services.call_start,
    "menu_chosen": services.menu_chosen,
    "whispered": services.leg_whispered,
    "decided": services.leg_decided,
    "leg_ended": services.leg_ended,
    "dial_finished": services.dial_finished,
    "voicemail_started": services.voicemail_started,
    "recording": services.recording_stored,
    "transcription": services.transcription_stored,
    "status_changed": services.call_status_changed,
    "challenge_answered": screening.challenge_answered,
}


def record(kind: str, /, **data: Any) -> Call | None:
    """Write one event now; spool it if the database cannot take it.

    Returns the call as written, or None when it was spooled (or is a start, which returns
    nothing). An event whose call has no row yet is spooled too: its start may be in the spool.
    An event the database refuses (a broken constraint) is a bug, not an outage: it is raised.
    """
    try:
        return SERVICES[kind](**data)
    except (IntegrityError, DataError):
        raise
    except DatabaseError:
        sid = data["call"].sid if kind == "start" else data.get("sid")
        logger.warning("Database unavailable: %s event of %s spooled", kind, sid)
        put(kind, data)
    except (Call.DoesNotExist, Recording.DoesNotExist):
        if data.get("sid"):
            put(kind, data)
    return None


def _encode(data: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, services.IncomingCall | services.Target):
            return asdict(value)
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    return {name: plain(value) for name, value in data.items()}


def _upgrade(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event spooled by the release before calls had legs, as this one writes it."""
    data = dict(data)
    if kind == "start" and "destination" in data:
        destination = data.pop("destination")
        data["targets"] = [{"label": "", "phone_number": destination}] if destination else []
    if kind == "whispered" and "dial_call_sid" in data:
        data["leg_sid"] = data.pop("dial_call_sid")
    if kind in {"whispered", "decided"}:
        data.setdefault("leg", 0)
    if kind == "dial_finished":
        data.setdefault("legs", None)
    return data


def _decode(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    data = _upgrade(kind, data)
    if data.get("at"):
        data["at"] = datetime.fromisoformat(data["at"])
    if "call" in data:
        data["call"] = services.IncomingCall(**data["call"])
    if "targets" in data:
        data["targets"] = [services.Target(**target) for target in data["targets"]]
    return data


def replay(kind: str, data: dict[str, Any]) -> bool:
    """Write a spooled event; False while the call it belongs to has no row yet."""
    try:
        SERVICES[kind](**_decode(kind, data))
    except (Call.DoesNotExist, Recording.DoesNotExist):
        return False
    return True


def _directory() -> Path:
    path = Path(settings.CALL_SPOOL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def put(kind: str, data: dict[str, Any]) -> Path:
    """Keep one event on disk until the database takes it; wakes this process's replayer."""
    directory = _directory()
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_sequence):06d}-{kind}.json"
    temporary = directory / f".{name}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        event = {"kind": kind, "spooled_at": timezone.now().isoformat(), "data": _encode(data)}
        json.dump(event, handle)
        handle.flush()
        os.fsync(handle.fileno())
    final = directory / name
    os.rename(temporary, final)
    _fsync_directory(directory)
    _replayer.wake()
    return final


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pending() -> list[Path]:
    directory = Path(settings.CALL_SPOOL_DIR)
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.json"))


def purge_unwritable(*, older_than: datetime) -> int:
    """Delete events set aside as never writable (`.bad`) before `older_than`: they hold
    callers' data, kept no longer than the calls themselves."""
    directory = Path(settings.CALL_SPOOL_DIR)
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.glob("*.bad"):
        try:
            if path.stat().st_mtime < older_than.timestamp():
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


@dataclass
class DrainReport:
    written: int = 0
    waiting: int = 0
    dropped: int = 0
    database_down: bool = False


def drain() -> DrainReport:
    """Replay every spooled event, oldest first. Stops at the first database error.

    One process drains at a time (a lock file), so two workers never replay the same event
    concurrently; should they, the services' idempotency would still keep one row.
    """
    report = DrainReport()
    files = pending()
    if not files:
        return report
    with open(_directory() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for path in pending():
            try:
                event = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except ValueError:
                logger.error("Unreadable spooled event %s moved aside", path.name)
                path.rename(path.with_suffix(".bad"))
                continue
            try:
                done = replay(event["kind"], event["data"])
            except (IntegrityError, DataError, TypeError, KeyError):
                # Never to be written, however often replayed: kept aside for a person to read.
                logger.exception("Spooled event %s refused; moved aside", path.name)
                path.rename(path.with_suffix(".bad"))
                continue
            except DatabaseError:
                report.database_down = True
                logger.warning("Database still unavailable; %d events wait", len(pending()))
                break
            if done:
                path.unlink()
                report.written += 1
            elif timezone.now() - datetime.fromisoformat(event["spooled_at"]) > ORPHAN_AGE:
                logger.error(
                    "Dropped spooled %s event for an unknown call: %s", event["kind"], event
                )
                path.unlink()
                report.dropped += 1
            else:
                report.waiting += 1
    return report


class _Replayer:
    """A background thread per process that drains the spool until it is empty."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._event = threading.Event()

    def wake(self) -> None:
        if not settings.CALL_SPOOL_AUTO_REPLAY:
            return
        with self._lock:
            self._event.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="spool-replayer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._event.clear()
            try:
                report = drain()
            except Exception:
                logger.exception("Spool replay failed")
                report = DrainReport(database_down=True)
            finally:
                close_old_connections()
            if not report.database_down:
                # Events still waiting are orphans now: `drain_spool` deals with them.
                with self._lock:
                    if not self._event.is_set():
                        self._thread = None
                        return
            self._event.wait(RETRY_SECONDS)


_replayer = _Replayer()
