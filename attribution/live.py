"""A visitor's live state in Redis (`DNI_BACKEND=redis`), so that a heartbeat or a page view
after the claim never reaches the database.

At a claim or a new visit (the database path in `visits`) the visitor's state is written to
one Redis hash: their ids, their last visit and its source, whether it showed the overflow
number, its pages, its last sight, its ad consent, how it arrived and the first visit's facts
the answer carries. Every later request of the visit is then one script (`KEEP`): the client's
rate limit, the state, the pool's hold (the pool's own `TAKE`, run inside it) and the page seen,
at once. Pages and the last sight are written behind: the script marks the state dirty and
`flush` (the worker's `flush_visits`, every few seconds) writes dirty visits in batches, one
statement each. What decides a call's attribution is never written behind: the visit's arrival
is written at the claim and never changes, a change of consent and every move of a hold's end
are written in the request itself.

A state lives for its hold time after the visitor's last request, and for as long as it has
writes not yet flushed (a day at most, should no worker run). Without it (expired, evicted,
Redis restarted) the request takes the database path, which writes the state again. Redis
keeps nothing on disk here: page views and last sights since the last flush may be lost with
it, never a visitor, a visit, a hold or an attribution.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from attribution import matching, pools
from attribution.models import Visit, Visitor
from tracking import sql

logger = logging.getLogger(__name__)

DIRTY = "dni:dirty"
BATCH = 500
# A state outlives its visitor's hold by this much: a request then begins a new visit anyway.
MARGIN = timedelta(minutes=2)
CONSENT = ("ad_user_data", "ad_personalization")

# KEYS: the visitor's state, the client's rate-limit count, the dirty states.
# ARGV: now, the hold's end, the rate limit ('' when already counted), the page's path, how
# the page arrived ('' unless it is a campaign's) and the host that was judged from, the two
# consents ('-' when not said), the website's pool versions (JSON, source id → version),
# the step of time, the most pages kept, the state's time to live, then the pool's numbers
# when the script answered 'sync'. The pool's keys are named from the visitor's source, which
# only the state knows (a single Redis, not a cluster).
KEEP = f"""
local function allow(KEYS)
{pools.ALLOW}
end
local function take(KEYS, ARGV)
{pools.TAKE}
end
local now = tonumber(ARGV[1])
if ARGV[3] ~= '' and allow({{KEYS[2]}}) > tonumber(ARGV[3]) then return 'limited' end
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return 'miss' end
local v = {{}}
for i = 1, #flat, 2 do v[flat[i]] = flat[i + 1] end
if tonumber(v.seen) < now - tonumber(v.hold) then return 'lapsed' end
if ARGV[5] ~= '' then
  if v.arrival_host ~= ARGV[6] then return 'unsure' end
  if v.arrival ~= ARGV[5] then return 'arrival' end
end
local taken, overflowed = false, 0
if v.overflow ~= '1' and v.source ~= '' then
  local version = cjson.decode(ARGV[9])[v.source]
  if version then
    local args = {{ARGV[1], ARGV[2], v.visitor, version}}
    for i = 13, #ARGV do args[#args + 1] = ARGV[i] end
    local prefix = 'dni:pool:' .. v.source
    taken = take({{prefix, prefix .. ':holder', prefix .. ':number', prefix .. ':version'}}, args)
    if taken == 'sync' then return 'sync:' .. v.source end
    if not taken then
      overflowed = 1
      v.overflow = '1'
      redis.call('HSET', KEYS[1], 'overflow', '1')
    end
  end
end
local dirty = false
local path = ARGV[4]
if path ~= '' and path ~= v.path then
  local pages = cjson.decode(v.pages)
  pages[#pages + 1] = path
  while #pages > tonumber(ARGV[11]) do table.remove(pages, 1) end
  redis.call('HSET', KEYS[1], 'pages', cjson.encode(pages), 'path', path,
    'count', tonumber(v.count) + 1)
  dirty = true
end
local consented = 0
for i, name in ipairs({{'ad_user_data', 'ad_personalization'}}) do
  local said = ARGV[6 + i]
  if said ~= '-' and said ~= v[name] then
    redis.call('HSET', KEYS[1], name, said)
    consented = 1
  end
end
redis.call('HSET', KEYS[1], 'seen', now)
if dirty or now - tonumber(v.written) >= tonumber(ARGV[10]) then
  redis.call('HSET', KEYS[1], 'written', now, 'dirty', '1')
  redis.call('HINCRBY', KEYS[1], 'rev', 1)
  redis.call('ZADD', KEYS[3], 'NX', now, KEYS[1])
  -- Kept until flushed, however soon its hold ends; a day at most, should no worker run.
  redis.call('PEXPIRE', KEYS[1], 86400000)
elseif v.dirty ~= '1' then
  redis.call('PEXPIRE', KEYS[1], ARGV[12])
end
local t = taken or {{-1, 0, 0, 0}}
-- One document, not an array of fourteen replies: one reply for the client to read.
return cjson.encode({{v.visitor, v.visit, v.source, t[1], t[2], t[3], t[4], overflowed, consented,
  v.overflow, v.first_page, v.first_referrer, v.first_at}})
"""

# A new visitor's claim: the pool's `TAKE` and the visitor's state written at once, before the
# database is (the state of a visitor whose rows then fail to be written is never asked for:
# its key never reaches a browser). KEYS: the pool's four keys (as `pools.pool_keys` names
# them), the visitor's state, the dirty states. ARGV: the state's time to live, the number of
# the state's fields and values that follow, those, then the pool's own arguments.
ARRIVE = f"""
local function take(KEYS, ARGV)
{pools.TAKE}
end
local fields = tonumber(ARGV[2])
local args = {{}}
for i = 3 + fields, #ARGV do args[#args + 1] = ARGV[i] end
local taken = take({{KEYS[1], KEYS[2], KEYS[3], KEYS[4]}}, args)
if taken == 'sync' then return 'sync' end
redis.call('DEL', KEYS[5])
redis.call('HSET', KEYS[5], unpack(ARGV, 3, 2 + fields))
if not taken then redis.call('HSET', KEYS[5], 'overflow', '1') end
redis.call('PEXPIRE', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], KEYS[5])
return taken
"""

# KEYS: the dirty states, then (to flush those alone) some visitors' states; else the oldest
# `ARGV[1]` dirty ones. Answers how many dirty states had vanished, then each to write.
COLLECT = """
local keys = {}
if #KEYS > 1 then
  for i = 2, #KEYS do keys[#keys + 1] = KEYS[i] end
else
  keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
end
local gone, out = 0, {}
for _, key in ipairs(keys) do
  local v = redis.call('HMGET', key, 'dirty', 'visit', 'pages', 'count', 'seen', 'rev')
  if v[1] == '1' then
    out[#out + 1] = {key, v[2], v[3], v[4], v[5], v[6]}
  elseif not v[1] and redis.call('ZREM', KEYS[1], key) == 1 then
    gone = gone + 1
  end
end
return {gone, out}
"""

# KEYS: the dirty states, then the states written. ARGV: each one's revision as written, then
# the margin of a state's time to live over its hold. A state changed since stays dirty.
DONE = """
local margin = tonumber(ARGV[#ARGV])
for i = 2, #KEYS do
  if redis.call('HGET', KEYS[i], 'rev') == ARGV[i - 1] then
    redis.call('ZREM', KEYS[1], KEYS[i])
    redis.call('HSET', KEYS[i], 'dirty', '0')
    redis.call('PEXPIRE', KEYS[i], tonumber(redis.call('HGET', KEYS[i], 'hold')) + margin)
  end
end
return 0
"""


class Scripts:
    def __init__(self, pool: pools.RedisPool) -> None:
        self.client = pool.client
        self.keep = self.client.register_script(KEEP)
        self.arrive = self.client.register_script(ARRIVE)
        self.collect = self.client.register_script(COLLECT)
        self.done = self.client.register_script(DONE)


@functools.cache
def _scripts(pool: pools.RedisPool) -> Scripts:
    return Scripts(pool)


def scripts() -> Scripts:
    # The pool's own connection: one client, one set of scripts, per Redis.
    return _scripts(pools.backend())


def enabled() -> bool:
    return settings.DNI_BACKEND == "redis"


def state_key(site_id: int, visitor_key: str) -> str:
    return f"dni:visitor:{site_id}:{visitor_key}"


def arrival(touch: matching.Touch, site_host: str) -> str:
    """What marks how `touch` arrived, as seen from the page's host: a visit whose page
    arrives otherwise is a new visit."""
    return json.dumps(
        [
            sorted((name, value) for name, value in touch.utm.items() if value),
            sorted(touch.click_ids.items()),
            touch.external_referrer(site_host),
        ]
    )


def _flag(value: bool | None) -> str:
    return "" if value is None else "1" if value else "0"


@dataclass(frozen=True)
class Kept:
    """A request the state answered: the visit's ids and what the pool did."""

    visitor_id: int
    visit_id: int
    source_id: int | None
    taken: pools.Taken | None
    # The pool was asked and had no number: the visit now shows the overflow number.
    overflowed: bool
    consent_changed: bool
    overflow: bool
    first_page: str
    first_referrer: str
    first_at: int


class Limited(Exception):
    """The client is past the rate limit."""


# Why the state could not answer: the database path answers instead.
MISSING, STALE = "missing", "stale"


def keep(
    *,
    site,
    visitor_key: str,
    touch: matching.Touch,
    consent: dict[str, bool] | None,
    now: datetime,
    until: datetime,
    hold: timedelta,
    step: timedelta,
    max_pages: int,
    limit: int | None,
    client: str,
) -> Kept | str:
    """One request of a visit with a live state: Kept, or MISSING (no state) or STALE (a state
    the database path must decide on: a lapsed visit, a new arrival). Raises Limited, and
    pools.Unavailable without Redis."""
    import redis

    host = matching.host_of(touch.page)
    key = state_key(site.id, visitor_key)
    args = [
        pools.ms(now),
        pools.ms(until),
        "" if limit is None else limit,
        matching.path_of(touch.page),
        arrival(touch, host) if touch.is_campaign() else "",
        host,
        *(_flag((consent or {}).get(name)) or "-" for name in CONSENT),
        site.pool_versions,
        int(step.total_seconds() * 1000),
        max_pages,
        int((hold + MARGIN).total_seconds() * 1000),
    ]
    keys = [key, pools.rate_key(client, now), DIRTY]
    try:
        answer = scripts().keep(keys=keys, args=args)
        if answer.startswith(b"sync:"):
            # The pool changed since it was last brought in step: the script again, with the
            # pool's numbers, the request counted already.
            source = site.source(int(answer[5:]))
            args[2] = ""
            answer = scripts().keep(keys=keys, args=[*args, *(n for n, _ in source.pool)])
    except redis.RedisError as error:
        raise pools.Unavailable(str(error)) from error
    if answer == b"limited":
        raise Limited
    if answer == b"miss":
        return MISSING
    if not answer.startswith(b"["):
        return STALE
    (visitor, visit, source, number, renewed, in_use, extended, overflowed, consented,
     overflow, first_page, first_referrer, first_at) = json.loads(answer)  # fmt: skip
    return Kept(
        visitor_id=int(visitor),
        visit_id=int(visit),
        source_id=int(source) if source else None,
        taken=pools.outcome([number, renewed, in_use, extended]) if number >= 0 else None,
        overflowed=bool(overflowed),
        consent_changed=bool(consented),
        overflow=overflow == "1",
        first_page=first_page,
        first_referrer=first_referrer,
        first_at=int(first_at),
    )


def _state(visitor: Visitor, visit: Visit, first: Visit, now: datetime, hold: timedelta) -> dict:
    host = matching.host_of(visit.landing_page)
    return {
        "visitor": visitor.pk,
        "visit": visit.pk,
        "source": visit.source_id or "",
        "overflow": "1" if visit.overflow else "0",
        "pages": json.dumps(visit.pages),
        "path": visit.pages[-1] if visit.pages else "",
        "count": visit.page_count,
        "seen": pools.ms(now),
        "written": pools.ms(visit.last_seen_at),
        "dirty": "0",
        "rev": 0,
        "arrival": arrival(visit.touch, host),
        "arrival_host": host,
        **{name: _flag(getattr(visit, name)) for name in CONSENT},
        "first_page": first.landing_page,
        "first_referrer": first.referrer,
        "first_at": int(first.started_at.timestamp()),
        "hold": int(hold.total_seconds() * 1000),
    }


def _lifetime(hold: timedelta) -> int:
    return int((hold + MARGIN).total_seconds() * 1000)


def remember(
    *, site_id: int, visitor: Visitor, visit: Visit, first: Visit, now: datetime, hold: timedelta
) -> None:
    """Write the state of `visitor` as the database path left it (`first`: their first
    visit). Without Redis the next request takes the database path again."""
    import redis

    key = state_key(site_id, visitor.key)
    try:
        with scripts().client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=_state(visitor, visit, first, now, hold))
            pipe.pexpire(key, _lifetime(hold))
            pipe.zrem(DIRTY, key)
            pipe.execute()
    except redis.RedisError:
        logger.exception("Visitor state not kept in Redis; the next request reads the database")


def arrive(
    *,
    site_id: int,
    visitor: Visitor,
    visit: Visit,
    first: Visit,
    now: datetime,
    until: datetime,
    hold: timedelta,
    source_id: int,
    number_ids: list[int],
) -> pools.Taken | None:
    """A new visitor's pool number taken (as `pools.RedisPool.take` takes it) and their state
    written, in one round trip, before their rows are: `visitor` and `visit` carry the keys
    their rows will have. None when the pool had no number: the state shows the overflow
    number. Raises pools.Unavailable without Redis."""
    import redis

    state = [value for pair in _state(visitor, visit, first, now, hold).items() for value in pair]
    keys = [*pools.pool_keys(source_id), state_key(site_id, visitor.key), DIRTY]
    args = [
        _lifetime(hold),
        len(state),
        *state,
        *pools.take_args(now, until, visitor.pk, number_ids),
    ]
    try:
        answer = scripts().arrive(keys=keys, args=args)
        if answer == b"sync":
            answer = scripts().arrive(keys=keys, args=[*args, *number_ids])
    except redis.RedisError as error:
        raise pools.Unavailable(str(error)) from error
    return pools.outcome(answer)


def flush(keys: list[str] | None = None, batch: int = BATCH) -> int:
    """Write the pages and last sight of dirty visits to the database: those of the states
    `keys`, else the `batch` oldest. Writes absolute values, never behind a later write, and
    clears a state only if it did not change meanwhile: a repeated flush writes nothing
    twice. How many visits were written."""
    client = scripts()
    gone, rows = client.collect(keys=[DIRTY, *(keys or [])], args=[batch])
    if gone:
        # Evicted or expired with writes pending: say so, they cannot be written any more.
        logger.warning(
            "%d visitor states vanished from Redis before their pages were written", gone
        )
    if not rows:
        return 0
    changed = [
        Visit(
            pk=int(visit),
            pages=json.loads(pages),
            page_count=int(count),
            last_seen_at=datetime.fromtimestamp(int(seen) / 1000, tz=UTC),
        )
        for _key, visit, pages, count, seen, _rev in rows
    ]
    sql.run(
        sql.update_rows(
            Visit,
            ["pages", "page_count", "last_seen_at"],
            changed,
            not_behind=["page_count", "last_seen_at"],
        )
    )
    client.done(
        keys=[DIRTY, *(row[0] for row in rows)],
        args=[*(row[5] for row in rows), int(MARGIN.total_seconds() * 1000)],
    )
    return len(rows)


def flush_all(rounds: int = 40) -> int:
    """Flush dirty visits batch after batch, until none is left (or `rounds` batches)."""
    written = 0
    for _ in range(rounds):
        count = flush()
        written += count
        if count < BATCH:
            break
    return written


def forget(site_id: int, visitor_key: str) -> None:
    """Flush the visitor's state if dirty, before the database path reads their visit."""
    import redis

    try:
        flush([state_key(site_id, visitor_key)])
    except redis.RedisError:
        logger.exception("Visitor state not flushed; the database path reads the visit as is")
