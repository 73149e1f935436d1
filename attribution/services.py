"""Writes the attribution admin makes."""

from __future__ import annotations

from attribution.models import Source, SourceNumber
from tracking.models import TrackingNumber


def pool_add(*, source: Source, number: TrackingNumber) -> SourceNumber:
    """Put a (just bought) number into `source`'s pool; a number already in a pool moves."""
    row, _ = SourceNumber.objects.update_or_create(
        number=number,
        defaults={"source": source, "role": SourceNumber.Role.POOL, "holder": None},
    )
    return row
