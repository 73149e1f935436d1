"""Reads for the attribution admin: pool health and the suggested size of a pool."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from attribution.models import Source, SourceNumber, Visit

# The traffic a suggestion is measured on.
DEMAND_DAYS = 7
# Headroom over the busiest moment measured: traffic varies from week to week.
HEADROOM = 0.2


@dataclass(frozen=True)
class PoolHealth:
    size: int
    in_use: int
    peak_in_use: int
    exhausted_count: int
    peak_demand: int
    suggested_size: int | None

    @property
    def advice(self) -> str:
        if self.suggested_size is None:
            return "Not enough traffic measured yet."
        if self.suggested_size > self.size:
            return f"Add {self.suggested_size - self.size} numbers."
        if self.suggested_size < self.size:
            return f"{self.size - self.suggested_size} numbers are more than the traffic needs."
        return "The right size for the traffic."


def peak_demand(source: Source, *, hold_minutes: int, since: datetime, until: datetime) -> int:
    """The most visits of `source` that wanted a number at once between `since` and `until`.

    A visit wants one from its start until its hold ends (its last request plus the hold), so
    visits that got the overflow number count too: this is the demand, not what the pool gave.
    """
    hold = timedelta(minutes=hold_minutes)
    # Visits that began over a day before `since` and lasted into it are too few to matter,
    # and bounding the start lets the index (source, started_at) read only the period.
    spans = Visit.objects.filter(
        source=source,
        started_at__gte=since - timedelta(days=1),
        started_at__lt=until,
        last_seen_at__gte=since - hold,
    ).values_list("started_at", "last_seen_at")
    changes = []
    for started, last_seen in spans.iterator():
        changes.append((started, 1))
        changes.append((last_seen + hold, -1))
    # At the same moment an end comes before a start: a number freed then can be given again.
    changes.sort(key=lambda change: (change[0], change[1]))
    peak = wanting = 0
    for _, change in changes:
        wanting += change
        peak = max(peak, wanting)
    return peak


def suggested_size(demand: int) -> int | None:
    if demand == 0:
        return None
    return max(demand + 1, math.ceil(demand * (1 + HEADROOM)))


def pool_health(source: Source, *, now: datetime | None = None) -> PoolHealth:
    now = now or timezone.now()
    numbers = SourceNumber.objects.filter(
        source=source, role=SourceNumber.Role.POOL, number__is_active=True
    ).aggregate(size=Count("pk"), in_use=Count("pk", filter=Q(held_until__gt=now)))
    demand = peak_demand(
        source,
        hold_minutes=source.website.hold_minutes,
        since=now - timedelta(days=DEMAND_DAYS),
        until=now,
    )
    return PoolHealth(
        size=numbers["size"],
        in_use=numbers["in_use"],
        peak_in_use=source.peak_in_use,
        exhausted_count=source.exhausted_count,
        peak_demand=demand,
        suggested_size=suggested_size(demand),
    )
