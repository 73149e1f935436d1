"""What the number endpoint does for one request of the script: record the visit, and give the
visitor the number their source shows.

1. The visitor is found by the key in their cookie (within this website only), else created.
2. A request continues the visitor's session unless the session has lapsed (no request for the
   website's hold minutes) or the page shows a new arrival (other UTM values, a new click id,
   another site's link): then a new visit starts, matched to the first source whose rule fits.
   A direct return keeps the source of the visit before it (last non-direct touch).
3. A source with one number shows it; a pool gives the visitor the number they hold, else the
   one free longest (see `pools`), and every hold is kept as history; an exhausted pool shows
   its overflow number for the rest of the visit, and the exhaustion is counted (`holds`).
4. With holds in Redis, the requests of a visit after its first are answered from the visitor's
   live state there (`live`), without the database but for what a call's attribution reads,
   and a new visitor's rows and hold are written in one statement (`_arrive`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from attribution import holds, live, matching, pools
from attribution.models import Hold, Visit, Visitor
from attribution.sites import SiteConfig, SourceConfig
from tracking import sql

logger = logging.getLogger(__name__)

MAX_PAGES = 50
# A hold ends on a whole step of time, and a visit's last sight is written at most once a
# step: heartbeats within one step write nothing (the hold already lasts that long).
STEP = timedelta(minutes=1)


def _step_up(moment: datetime) -> datetime:
    """`moment`, or the next whole step after it."""
    seconds = STEP.total_seconds()
    over = moment.timestamp() % seconds
    return moment + timedelta(seconds=seconds - over) if over else moment


@dataclass(frozen=True)
class FirstTouch:
    page: str
    referrer: str
    at: datetime


def _visit_fields(touch: matching.Touch, ga: str) -> dict[str, Any]:
    return {
        "landing_page": touch.page,
        "landing_path": matching.path_of(touch.page),
        "referrer": touch.referrer,
        **{name: touch.utm.get(name, "") for name in matching.UTM_NAMES},
        **{name: touch.click_ids.get(name, "") for name in matching.CLICK_IDS},
        "ga_client_id": ga,
    }


def _new_arrival(touch: matching.Touch, visit: Visit) -> bool:
    """Whether `touch` is another arrival than the one that began `visit`."""
    if not touch.is_campaign():
        return False
    site = matching.host_of(touch.page)
    return live.arrival(touch, site) != live.arrival(visit.touch, site)


_VISITOR = sql.Columns(Visitor, "v")
_FIRST = sql.Columns(Visit, "f")
_LAST = sql.Columns(Visit, "l")


@functools.cache
def _visitor_query() -> str:
    return (
        f"SELECT {_VISITOR.sql}, {_FIRST.sql}, {_LAST.sql} FROM {_VISITOR.table}"
        f" LEFT JOIN {_FIRST.table} ON {_FIRST.column('id')} = {_VISITOR.column('first_visit')}"
        f" LEFT JOIN {_LAST.table} ON {_LAST.column('id')} = {_VISITOR.column('last_visit')}"
        f" WHERE {_VISITOR.column('website')} = %s AND {_VISITOR.column('key')} = %s"
    )


def _find_visitor(site_id: int, key: str) -> Visitor | None:
    """The website's visitor with `key`, with their first and last visits, in one query
    built once (this runs on every heartbeat; the ORM would compile it every time)."""
    rows = sql.fetch(_visitor_query(), [site_id, key])
    if not rows:
        return None
    visitor = _VISITOR.instance(rows[0])
    Visitor.first_visit.field.set_cached_value(visitor, _FIRST.instance(rows[0], len(_VISITOR)))
    Visitor.last_visit.field.set_cached_value(
        visitor, _LAST.instance(rows[0], len(_VISITOR) + len(_FIRST))
    )
    return visitor


def record(
    *,
    site: SiteConfig,
    visitor_key: str,
    page: str,
    referrer: str,
    ga: str,
    first: FirstTouch | None,
    now: datetime,
    consent: dict[str, bool] | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    """Record one request of the script and answer it (see the module's docstring).
    `consent`: what the visitor consented to for ads, as far as the site said (Visit's fields).
    `client`: the client's key, when its rate limit is counted here (with holds in Redis, in
    the same round trip as the rest); raises live.Limited past the limit.

    With holds in Redis, a request of a visit whose live state Redis has is answered from it
    (`live`): no query, but a hold's end moved (once a step) or a consent changed. Else a
    heartbeat of a page already seen reads one row and writes nothing to the database: no
    transaction is opened for it. The writes of a new visit, of a page view and of a claim
    each commit on their own."""
    touch = matching.Touch.of(page, referrer)
    hold = timedelta(minutes=site.hold_minutes)
    until = _step_up(now + hold)
    if live.enabled() and visitor_key:
        answer = _record_live(site, visitor_key, touch, consent, now, until, client)
        if answer is not None:
            return answer
    visitor = _find_visitor(site.id, visitor_key) if visitor_key else None
    visit = visitor.last_visit if visitor is not None else None
    new_visit = visit is None or visit.last_seen_at < now - hold or _new_arrival(touch, visit)
    new_visitor = visitor is None
    if new_visit:
        visitor, visits = _begin_visit(site, visitor, touch, ga, first, now, consent)
        visit = visits[-1]
    else:
        _see(visit, touch, now, consent)
    source = site.source(visit.source_id)
    remembered = False
    if new_visitor and _arrives_in_one_write(source):
        number, remembered = _arrive(site, source, visitor, visits, now, until)
    else:
        if new_visit:
            with transaction.atomic():
                _write_visit(visitor, visits, now)
        number = holds.number(
            source, visitor, visit, now, until, new_visit=new_visit, new_visitor=new_visitor
        )
    first_visit = visitor.first_visit or visit
    if live.enabled() and not remembered:
        live.remember(
            site_id=site.id, visitor=visitor, visit=visit, first=first_visit, now=now, hold=hold
        )
    return _reply(
        site,
        visitor.key,
        number,
        first_visit.landing_page,
        first_visit.referrer,
        int(first_visit.started_at.timestamp()),
    )


def _reply(
    site: SiteConfig, visitor_key: str, number: str, page: str, referrer: str, at: int
) -> dict[str, Any]:
    return {
        "visitor": visitor_key,
        "swaps": [
            {"target": target, "number": number}
            for target in site.targets
            if number and number != target
        ],
        "heartbeat": settings.DNI_HEARTBEAT_SECONDS,
        "cookie_days": site.cookie_days,
        "first": {"page": page, "referrer": referrer, "at": at},
    }


def _record_live(
    site: SiteConfig,
    visitor_key: str,
    touch: matching.Touch,
    consent: dict[str, bool] | None,
    now: datetime,
    until: datetime,
    client: str | None,
) -> dict[str, Any] | None:
    """The answer from the visitor's live state, or None for the database path to give."""
    try:
        kept = live.keep(
            site=site,
            visitor_key=visitor_key,
            touch=touch,
            consent=consent,
            now=now,
            until=until,
            hold=timedelta(minutes=site.hold_minutes),
            step=STEP,
            max_pages=MAX_PAGES,
            limit=settings.DNI_RATE_LIMIT if client is not None else None,
            client=client or "",
        )
    except pools.Unavailable:
        # The database path answers; its pool, without Redis, shows the overflow number.
        logger.exception("Visitor state unavailable; reading the database")
        return None
    if kept == live.STALE:
        # The database path decides (a new visit, say) on the visit as Redis has it.
        live.forget(site.id, visitor_key)
    if not isinstance(kept, live.Kept):
        return None
    if kept.consent_changed and consent:
        # A call's attribution copies the visit's consent: written now, never behind.
        Visit.objects.filter(pk=kept.visit_id).update(**consent)
    source = site.source(kept.source_id)
    taken = kept.taken
    if source is None:
        number = ""
    elif source.number or not source.pool:
        number = source.number or source.overflow
    elif taken is None:
        if kept.overflowed:
            holds.exhausted(source, Visit(pk=kept.visit_id), now)
        number = source.overflow
    else:
        if taken.extended or not taken.renewed:
            # The hold's end moved (once a step) or a hold began: the history, in the request.
            visitor = Visitor(pk=kept.visitor_id, website_id=site.id, key=visitor_key)
            visit = Visit(pk=kept.visit_id, visitor=visitor, source_id=kept.source_id)
            holds.keep_history(
                taken, source, visitor, visit, now, until, new_visit=False, new_visitor=False
            )
        number = dict(source.pool).get(taken.number_id, source.overflow)
    return _reply(site, visitor_key, number, kept.first_page, kept.first_referrer, kept.first_at)


def _begin_visit(
    site: SiteConfig,
    visitor: Visitor | None,
    touch: matching.Touch,
    ga: str,
    first: FirstTouch | None,
    now: datetime,
    consent: dict[str, bool] | None = None,
) -> tuple[Visitor, list[Visit]]:
    """A new visit (of a new visitor, if `visitor` is None), matched to its source, built but
    not written; for a new visitor, after the visit their browser remembers as its first touch
    if we do not know it (our record expired, say), kept as theirs."""
    visits = []
    if visitor is None:
        visitor = Visitor(website_id=site.id, created_at=now, last_seen_at=now)
        if first is not None and first.page != touch.page:
            earliest = now - timedelta(days=site.cookie_days)
            at = min(max(first.at, earliest), now)
            first_touch = matching.Touch.of(first.page, first.referrer)
            source = site.match(first_touch)
            visits.append(
                Visit(
                    visitor=visitor,
                    source_id=source.id if source else None,
                    started_at=at,
                    last_seen_at=at,
                    pages=[matching.path_of(first_touch.page)],
                    **_visit_fields(first_touch, ga),
                )
            )
    source = site.match(touch)
    previous = visitor.last_visit or visitor.first_visit or (visits[0] if visits else None)
    if touch.is_direct() and previous is not None and site.source(previous.source_id):
        source = site.source(previous.source_id)
    visit = Visit(
        visitor=visitor,
        source_id=source.id if source else None,
        started_at=now,
        last_seen_at=now,
        pages=[matching.path_of(touch.page)],
        **_visit_fields(touch, ga),
        **(consent or {}),
    )
    return visitor, [*visits, visit]


def _write_visit(visitor: Visitor, visits: list[Visit], now: datetime) -> None:
    """Write what `_begin_visit` built, through the ORM (inside the caller's transaction)."""
    if visitor.pk is None:
        visitor.save()
    for visit in visits:
        visit.visitor = visitor  # with the key it now has
        visit.save()
    visitor.first_visit = visitor.first_visit or visits[0]
    visitor.last_visit = visits[-1]
    visitor.last_seen_at = now
    visitor.save(update_fields=["first_visit", "last_visit", "last_seen_at"])


def _arrives_in_one_write(source: SourceConfig | None) -> bool:
    """Whether a new visitor's rows and hold can be written in one statement: where keys can
    be drawn before the rows are written (PostgreSQL), and the pool, if the source shows one,
    is kept outside the database (a hold there refers to its holder's row)."""
    if not sql.draws_keys():
        return False
    return source is None or not holds.pooled(source) or pools.backend().separate


def _arrive(
    site: SiteConfig,
    source: SourceConfig | None,
    visitor: Visitor,
    visits: list[Visit],
    now: datetime,
    until: datetime,
) -> tuple[str, bool]:
    """A new visitor's first request, written in one statement and one commit (where the ORM
    takes two commits and seven round trips, and every new visitor waits for both): the keys
    of their rows are drawn first (from this process's reserve), the pool's number is
    taken for that key (with their live state written in the same round trip to Redis), then
    the visitor, their visits and their hold are inserted together. The number shown, and
    whether the live state was written.

    Should that write fail, the number is given back to the pool (it never reached the
    visitor), and the state is never asked for (its key never reaches a browser)."""
    visitor.pk, *keys = sql.next_keys(Visitor, *(Visit for _ in visits))
    for each, key in zip(visits, keys, strict=True):
        each.pk = key
        each.visitor = visitor
    visit = visits[-1]
    visitor.first_visit, visitor.last_visit = visits[0], visit
    take = None
    if live.enabled():
        take = functools.partial(
            live.arrive,
            site_id=site.id,
            visitor=visitor,
            visit=visit,
            first=visits[0],
            now=now,
            until=until,
            hold=timedelta(minutes=site.hold_minutes),
        )
    claim = holds.claim(source, visitor, visit, now, until, take)
    visit.overflow = claim.exhausted
    writes = [sql.insert_new([visitor], keyed=True), sql.insert_new(visits, keyed=True)]
    if claim.taken is not None:
        hold = Hold(
            number_id=claim.taken.number_id,
            source_id=source.id,
            visitor=visitor,
            visit=visit,
            held_from=now,
            held_until=until,
        )
        writes.append(sql.insert_new([hold]))
    try:
        sql.run(writes)
    except DatabaseError:
        if claim.taken is not None:
            _give_back(source, claim.taken, visitor)
        raise
    if claim.exhausted:
        holds.count_exhaustion(source, now)
    if claim.taken is not None:
        holds.raise_peak(source, claim.taken.in_use)
    return claim.number, take is not None and (claim.taken is not None or claim.exhausted)


def _give_back(source: SourceConfig, taken: pools.Taken, visitor: Visitor) -> None:
    try:
        pools.backend().release(
            source_id=source.id, number_id=taken.number_id, visitor_id=visitor.pk
        )
    except pools.Unavailable:
        # Held by nobody until the hold's end: the pool is a number short until then.
        logger.exception("A pool number taken for a visitor not written could not be given back")


def _see(
    visit: Visit, touch: matching.Touch, now: datetime, consent: dict[str, bool] | None = None
) -> None:
    """Another request of the same visit: a new page is added to the pages seen; the visit's
    last sight is written once a step at most (heartbeats in between write nothing)."""
    path = matching.path_of(touch.page)
    changed = []
    if path and (not visit.pages or visit.pages[-1] != path):
        # Read, then written: two pages of one visitor at the same instant may count as one.
        visit.pages = [*visit.pages, path][-MAX_PAGES:]
        visit.page_count += 1
        changed = ["pages", "page_count"]
    # Consent comes with every request: a change lost with the disk's last moments before a
    # crash is written again by the next one.
    for name, value in (consent or {}).items():
        if getattr(visit, name) != value:
            setattr(visit, name, value)
            changed.append(name)
    if changed or visit.last_seen_at <= now - STEP:
        visit.last_seen_at = now
        # An UPDATE built once from the model, not compiled by the ORM on every page view;
        # a page view alone need not wait for the disk (never a visit or a hold).
        sql.run([sql.unflushed(sql.update(visit, ["last_seen_at", *changed]))])


def first_touch(value: Any, now: datetime) -> FirstTouch | None:
    """The script's `first` (from its cookie), if it is well formed."""
    if not isinstance(value, dict):
        return None
    page, referrer, at = value.get("page"), value.get("referrer", ""), value.get("at")
    if not isinstance(page, str) or not page or not isinstance(referrer, str):
        return None
    if isinstance(at, bool) or not isinstance(at, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(at, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return FirstTouch(
        matching.printable(page[: matching.MAX_URL]),
        matching.printable(referrer[: matching.MAX_URL]),
        min(moment, now),
    )
