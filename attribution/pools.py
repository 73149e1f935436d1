"""Who holds which pool number now, behind one interface with two backends.

`DNI_BACKEND=database` (the default) keeps the live holds in the pool's rows (SourceNumber):
a claim locks the free row held longest ago (`SKIP LOCKED` where the database has it; SQLite's
transactions take its write lock as they begin) and takes it with a conditional UPDATE that
only succeeds while the row is still as it was read. `DNI_BACKEND=redis` keeps them in Redis,
one sorted set per pool scored by the time each number is held until, claimed by one Lua script,
for sites whose traffic one database should not serialise.

Either way the history of holds is written to the database by the caller (`visits`), and no
two live visitors ever hold one number. Both pass the same tests (tests/attribution).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from attribution.models import SourceNumber


class Unavailable(Exception):
    """The backend's store could not be reached."""


@dataclass(frozen=True)
class Taken:
    number_id: int
    # The visitor's own hold was still live and is now extended (else a new hold begins).
    renewed: bool
    # Numbers of the pool held once this claim is made (for the pool's health; a backend may
    # leave it 0 on a renewal, which never raises the peak).
    in_use: int
    # Whether the hold's end moved: a renewal within the same step of time changes nothing,
    # so the history need not be written again.
    extended: bool = True


class Pool(Protocol):
    # Whether the holds are kept outside the database: a number may then be taken for a
    # visitor whose row is written after it, in the same statement as their hold.
    separate: bool

    def take(
        self,
        *,
        source_id: int,
        number_ids: Sequence[int],
        visitor_id: int,
        now: datetime,
        until: datetime,
    ) -> Taken | None:
        """The visitor's number, held (or still held) until `until`: the one they hold, else
        the one free longest. None when every number is held by someone else."""

    def allow(self, *, client: str, limit: int, now: datetime) -> bool:
        """Count one request of `client` in the current minute; False past `limit`."""


class DatabasePool:
    # A hold refers to its holder's row, which must be written first.
    separate = False

    def take(self, *, source_id, number_ids, visitor_id, now, until) -> Taken | None:
        pool = SourceNumber.objects.filter(
            source_id=source_id, role=SourceNumber.Role.POOL, number_id__in=list(number_ids)
        )
        with transaction.atomic():
            # 1. The visitor's own number, held now or since their hold ended by nobody else.
            own = (
                pool.filter(holder_id=visitor_id)
                .order_by()
                .values_list("pk", "number_id", "held_until")
            )
            for pk, number_id, held_until in own[:1]:
                if held_until == until:
                    # A heartbeat within the same step: the hold already lasts that long.
                    return Taken(number_id, True, 0, extended=False)
                # Unchanged since read: a visitor taking it over meanwhile makes this a no-op.
                if pool.filter(pk=pk, holder_id=visitor_id, held_until=held_until).update(
                    held_until=until
                ):
                    renewed = held_until is not None and held_until > now
                    # A renewal changes nothing in the pool's use: not counted again.
                    return Taken(number_id, renewed, 0 if renewed else self._in_use(pool, now))
            # 2. Else the free number held longest ago.
            free = (
                pool.filter(Q(held_until__isnull=True) | Q(held_until__lte=now))
                .order_by(F("held_until").asc(nulls_first=True), "pk")
                .values_list("pk", "number_id", "held_until")
            )
            if connection.features.has_select_for_update_skip_locked:
                # Concurrent claims each lock a different free row instead of queueing on one.
                free = free.select_for_update(skip_locked=True)
            for _ in range(3):
                candidate = free.first()
                if candidate is None:
                    return None
                pk, number_id, held_until = candidate
                if pool.filter(pk=pk, held_until=held_until).update(
                    holder_id=visitor_id, held_until=until
                ):
                    return Taken(number_id, False, self._in_use(pool, now))
        return None

    @staticmethod
    def _in_use(pool, now: datetime) -> int:
        return pool.filter(held_until__gt=now).count()

    def allow(self, *, client: str, limit: int, now: datetime) -> bool:
        from attribution.models import RateWindow

        window = int(now.timestamp()) // 60
        key = f"{client}:{window}"
        # One conditional UPDATE counts the request and checks the limit at once.
        if RateWindow.objects.filter(key=key, count__lt=limit).update(count=F("count") + 1):
            return True
        try:
            with transaction.atomic():
                RateWindow.objects.create(key=key, window=window, count=1)
        except IntegrityError:
            # Another request of the client's made the row first: count against it.
            return bool(
                RateWindow.objects.filter(key=key, count__lt=limit).update(count=F("count") + 1)
            )
        # Counts of minutes gone by are of no more use, whoever's they are.
        RateWindow.objects.filter(window__lt=window).delete()
        return True


# KEYS (as `pool_keys` names them): the pool's sorted set (number id → held until, in ms),
# its holders (number id → visitor id), the visitors' numbers (visitor id → number id) and the
# version of the pool's membership the set was last brought in step with.
# ARGV: now, until, visitor id, the membership's version, then the pool's number ids, sent
# only when the script answered 'sync' (the pool changed): a claim does not ship the pool.
TAKE = """
local now, untl, visitor, version = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
if #ARGV > 4 then
  local wanted = {}
  for i = 5, #ARGV do
    wanted[ARGV[i]] = true
    redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[i])
  end
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if not wanted[member] then
      redis.call('ZREM', KEYS[1], member)
      redis.call('HDEL', KEYS[2], member)
    end
  end
  redis.call('SET', KEYS[4], version)
elseif redis.call('GET', KEYS[4]) ~= version then
  return 'sync'
end
local own = redis.call('HGET', KEYS[3], visitor)
if own and redis.call('HGET', KEYS[2], own) == visitor then
  local held = redis.call('ZSCORE', KEYS[1], own)
  if held then
    held = tonumber(held)
    local renewed = 0
    if held > now then renewed = 1 end
    if held == untl then return {tonumber(own), renewed, 0, 0} end
    redis.call('ZADD', KEYS[1], untl, own)
    return {tonumber(own), renewed, redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'), 1}
  end
end
local free = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1)
if #free == 0 then return false end
local number = free[1]
local before = redis.call('HGET', KEYS[2], number)
if before then redis.call('HDEL', KEYS[3], before) end
redis.call('ZADD', KEYS[1], untl, number)
redis.call('HSET', KEYS[2], number, visitor)
redis.call('HSET', KEYS[3], visitor, number)
redis.call('PEXPIRE', KEYS[3], 86400000)
return {tonumber(number), 0, redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'), 1}
"""

# KEYS: as TAKE's. ARGV: the number, the visitor who must still hold it. Free since the epoch:
# the next claim takes it (it never reached anyone).
RELEASE = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[2])
return 1
"""

ALLOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], 120) end
return count
"""


class RedisPool:
    separate = True

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._take = self.client.register_script(TAKE)
        self._allow = self.client.register_script(ALLOW)
        self._release = self.client.register_script(RELEASE)

    def take(self, *, source_id, number_ids, visitor_id, now, until) -> Taken | None:
        import redis

        keys = pool_keys(source_id)
        args = take_args(now, until, visitor_id, number_ids)
        try:
            answer = self._take(keys=keys, args=args)
            if answer == b"sync":
                answer = self._take(keys=keys, args=[*args, *number_ids])
        except redis.RedisError as error:
            raise Unavailable(str(error)) from error
        return outcome(answer)

    def allow(self, *, client: str, limit: int, now: datetime) -> bool:
        import redis

        try:
            return int(self._allow(keys=[rate_key(client, now)])) <= limit
        except redis.RedisError as error:
            raise Unavailable(str(error)) from error

    def release(self, *, source_id, number_id, visitor_id) -> None:
        """Give back a number just taken for a visitor whose rows could not be written (the
        number never reached them), if they still hold it: it is free at once. Only a
        `separate` pool takes a number before its holder's row is written."""
        import redis

        try:
            self._release(keys=pool_keys(source_id), args=[number_id, visitor_id])
        except redis.RedisError as error:
            raise Unavailable(str(error)) from error


def rate_key(client: str, now: datetime) -> str:
    return f"dni:rate:{client}:{int(now.timestamp()) // 60}"


def pool_keys(source_id: int | str) -> list[str]:
    # `live` builds the same names inside its script from a visitor's source: keep them alike.
    prefix = f"dni:pool:{source_id}"
    return [prefix, f"{prefix}:holder", f"{prefix}:number", f"{prefix}:version"]


def take_args(now: datetime, until: datetime, visitor_id: int, number_ids: Sequence[int]) -> list:
    """`TAKE`'s arguments but the pool's numbers, sent only when it answers 'sync'."""
    return [ms(now), ms(until), visitor_id, version(number_ids)]


def version(number_ids: Sequence[int]) -> str:
    return hashlib.blake2b(",".join(map(str, number_ids)).encode(), digest_size=8).hexdigest()


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def outcome(answer) -> Taken | None:
    """The `TAKE` script's answer as a Taken (None: every number is held by someone else)."""
    if not answer:
        return None
    number_id, renewed, in_use, extended = answer
    return Taken(int(number_id), bool(renewed), int(in_use), bool(extended))


@functools.cache
def _redis_pool(url: str) -> RedisPool:
    return RedisPool(url)


def backend() -> Pool:
    """The configured backend (DNI_BACKEND)."""
    if settings.DNI_BACKEND == "redis":
        return _redis_pool(settings.DNI_REDIS_URL)
    return DatabasePool()
