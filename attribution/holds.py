"""The number a visit shows: taken from its source's pool (`pools`) when the source has one, and
what the database keeps of it: the history of holds (a call is matched to the visitor who held
the number when it rang), the pool's exhaustion and its peak in use."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F

from attribution import pools
from attribution.models import Hold, Source, Visit, Visitor
from attribution.sites import SourceConfig
from tracking import sql

logger = logging.getLogger(__name__)


def pooled(source: SourceConfig) -> bool:
    return not source.number and bool(source.pool)


@dataclass(frozen=True)
class Claim:
    """The number a visit shows, and the pool's hold behind it, if any."""

    number: str
    taken: pools.Taken | None = None
    # Every number of the pool was held: the visit shows the overflow number throughout.
    exhausted: bool = False


def claim(
    source: SourceConfig | None,
    visitor: Visitor,
    visit: Visit,
    now: datetime,
    until: datetime,
    take: Callable[..., pools.Taken | None] | None = None,
) -> Claim:
    """The number `visit` shows, taken from the pool if its source has one (the pool's store
    is written; the database is not), by `take` if given (as the pool's own `take` is asked:
    a source and its numbers)."""
    if source is None:
        return Claim("")
    if not pooled(source):
        return Claim(source.number or source.overflow)
    if visit.overflow:
        return Claim(source.overflow)
    phones = dict(source.pool)
    if take is None:
        take = functools.partial(pools.backend().take, visitor_id=visitor.pk, now=now, until=until)
    try:
        taken = take(source_id=source.id, number_ids=list(phones))
    except pools.Unavailable:
        # No pool without its store: the source's overflow number, so a call still counts
        # for the source (not an exhaustion of the pool).
        logger.exception("Pool backend unavailable; showing the overflow number")
        return Claim(source.overflow)
    if taken is None:
        return Claim(source.overflow, exhausted=True)
    return Claim(phones[taken.number_id], taken)


def number(
    source: SourceConfig | None,
    visitor: Visitor,
    visit: Visit,
    now: datetime,
    until: datetime,
    *,
    new_visit: bool,
    new_visitor: bool,
) -> str:
    """The number `visit` shows, with its hold's history (or the pool's exhaustion) written."""
    claimed = claim(source, visitor, visit, now, until)
    if claimed.exhausted:
        exhausted(source, visit, now)
    elif claimed.taken is not None:
        keep_history(
            claimed.taken,
            source,
            visitor,
            visit,
            now,
            until,
            new_visit=new_visit,
            new_visitor=new_visitor,
        )
    return claimed.number


def exhausted(source: SourceConfig, visit: Visit, now: datetime) -> None:
    visit.overflow = True
    # Counted once per visit, however often the visit's page asks again.
    if Visit.objects.filter(pk=visit.pk, overflow=False).update(overflow=True):
        count_exhaustion(source, now)


def count_exhaustion(source: SourceConfig, now: datetime) -> None:
    Source.objects.filter(pk=source.id).update(
        exhausted_count=F("exhausted_count") + 1, last_exhausted_at=now
    )


def keep_history(
    taken: pools.Taken,
    source: SourceConfig,
    visitor: Visitor,
    visit: Visit,
    now: datetime,
    until: datetime,
    *,
    new_visit: bool,
    new_visitor: bool,
) -> None:
    if taken.renewed and not new_visit and not taken.extended:
        # A heartbeat within the same step: the hold in the history already lasts that long.
        return
    live = Hold.objects.filter(number_id=taken.number_id, visitor=visitor, held_until__gt=now)
    if taken.renewed and not new_visit:
        # The same visit keeps its number: its hold in the history ends when the pool's does,
        # written only when that moved (one statement), never a new row.
        if live.filter(visit=visit).update(held_until=until):
            return
    # A visitor who arrived just now has no hold to end: the new one is inserted alone.
    with contextlib.nullcontext() if new_visitor else transaction.atomic():
        if not new_visitor:
            # A new visit of the same visitor ends the hold of the one before: a call from now
            # on belongs to the new visit.
            live.update(held_until=now)
        Hold.objects.create(
            number_id=taken.number_id,
            source_id=source.id,
            visitor=visitor,
            visit=visit,
            held_from=now,
            held_until=until,
        )
    # After the commit, in a statement of its own: every claim of a filling pool raises the
    # peak, and holding the source's row until the claim's commit would queue all of them
    # behind each other's disk flush.
    transaction.on_commit(functools.partial(raise_peak, source, taken.in_use))


def raise_peak(source: SourceConfig, in_use: int) -> None:
    if in_use <= source.peak:
        # Not past the peak this process last read: nothing to raise (most claims, once a
        # pool has seen its busiest hour).
        return
    # The pool's health, not a visitor's data: one statement whose commit need not wait for
    # the disk (in place of BEGIN, SET LOCAL, the UPDATE and COMMIT).
    peak = Source(pk=source.id, peak_in_use=in_use)
    sql.run(
        [
            sql.unflushed(statement)
            for statement in sql.update_rows(Source, ["peak_in_use"], [peak], ahead=["peak_in_use"])
        ]
    )
