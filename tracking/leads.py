"""Which calls are leads: each campaign's rule, checked call by call with the reasons, and as
one SQL expression for lists, filters and exports. The two must always agree (tested).

A call is a qualified lead when a destination accepted it, the conversation lasted at least the
campaign's minimum, it is not spam, and (if the campaign asks) its caller never called before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from tracking import outbox
from tracking.models import Call, Tag


@dataclass(frozen=True)
class Check:
    passed: bool
    reason: str


@dataclass(frozen=True)
class Qualification:
    qualified: bool
    checks: tuple[Check, ...]
    value: Decimal | None = None
    currency: str = ""

    @property
    def summary(self) -> str:
        if not self.qualified:
            return "Not a qualified lead"
        if self.value is None:
            return "Qualified lead"
        return f"Qualified lead, worth {self.value} {self.currency}"


def qualification(call: Call) -> Qualification:
    """Whether `call` is a qualified lead under its campaign's rule, and exactly why (not)."""
    campaign = call.campaign
    if campaign is None:
        return Qualification(False, (Check(False, "Reached no campaign"),))
    checks = []
    if call.answered_by:
        checks.append(Check(True, f"Accepted by {call.answered_by}"))
    else:
        checks.append(Check(False, f"Not accepted by a destination ({call.get_outcome_display()})"))
    minimum = campaign.lead_min_talk_seconds
    if call.talk_seconds is None:
        checks.append(Check(False, f"Talk time unknown (at least {minimum} s needed)"))
    elif call.talk_seconds >= minimum:
        checks.append(Check(True, f"Talked {call.talk_seconds} s (at least {minimum} s)"))
    else:
        checks.append(Check(False, f"Talked {call.talk_seconds} s, under {minimum} s"))
    if call.spam:
        checks.append(Check(False, f"Spam: {call.get_spam_display()}"))
    else:
        checks.append(Check(True, "Not spam"))
    if campaign.lead_first_time_only:
        if not call.caller_number or not call.caller_number.startswith("+"):
            checks.append(Check(False, "Caller number unknown: cannot tell a first-time caller"))
        else:
            earlier = (
                call.earlier_calls()
                .order_by("started_at")
                .values_list("started_at", flat=True)
                .first()
            )
            if earlier is None:
                checks.append(Check(True, "First call from this number"))
            else:
                checks.append(Check(False, f"Called before, first on {earlier:%Y-%m-%d}"))
    qualified = all(check.passed for check in checks)
    return Qualification(
        qualified,
        tuple(checks),
        value=campaign.lead_value if qualified else None,
        currency=campaign.lead_currency if qualified else "",
    )


def qualified_condition() -> Q:
    """The same rule as `qualification`, as a condition on calls (joined to their campaign)."""
    earlier = Call.objects.filter(
        caller_number=OuterRef("caller_number"), started_at__lt=OuterRef("started_at")
    ).exclude(call_sid=OuterRef("call_sid"))
    first_time = Q(caller_number__startswith="+") & ~Exists(earlier)
    return (
        ~Q(answered_by="")
        & Q(talk_seconds__gte=F("campaign__lead_min_talk_seconds"))
        & Q(spam="")
        & (Q(campaign__lead_first_time_only=False) | first_time)
    )


def qualified_expression() -> Case:
    return Case(
        When(qualified_condition(), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


# Tags --------------------------------------------------------------------------------------


def tag_names(text: str) -> list[str]:
    """Tags typed as "callback, quote sent": trimmed, at most 40 characters, no duplicates."""
    names = []
    for part in text.split(","):
        name = " ".join(part.split())[:40]
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def calls_tag(*, calls: QuerySet[Call], names: list[str]) -> int:
    """Put the tags `names` on `calls`; tags are created as needed (matched ignoring case)."""
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    through = Call.tags.through
    pks = list(calls.values_list("pk", flat=True))
    with transaction.atomic():
        through.objects.bulk_create(
            [through(call_id=pk, tag_id=tag.pk) for pk in pks for tag in tags],
            ignore_conflicts=True,
        )
        _publish(pks)
    return len(pks)


def _publish(pks: list[int]) -> None:
    """Tell listeners (outbound webhooks: call.updated) of ended calls whose tags changed."""
    ended = Call.objects.filter(pk__in=pks, ended_at__isnull=False)
    for sid in ended.values_list("call_sid", flat=True):
        outbox.publish(sid, outbox.CHANGED)


def calls_untag(*, calls: QuerySet[Call], names: list[str]) -> int:
    pks = list(calls.values_list("pk", flat=True))
    tag_ids = [
        pk
        for name in names
        for pk in Tag.objects.filter(name__iexact=name).values_list("pk", flat=True)
    ]
    with transaction.atomic():
        Call.tags.through.objects.filter(call_id__in=pks, tag_id__in=tag_ids).delete()
        _publish(pks)
    return len(pks)


def with_tags(rows: Iterable[tuple], chunk: int = 2000) -> Iterator[tuple]:
    """Rows whose first value is the call's pk, without it and with the call's tags appended
    (comma-separated): one query per `chunk` rows."""
    batch: list[tuple] = []

    def flush() -> Iterator[tuple]:
        tags: dict[int, list[str]] = {}
        pairs = Call.tags.through.objects.filter(call_id__in=[row[0] for row in batch])
        for call_id, name in pairs.values_list("call_id", "tag__name").order_by("tag__name"):
            tags.setdefault(call_id, []).append(name)
        for row in batch:
            yield (*row[1:], ", ".join(tags.get(row[0], ())))
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            yield from flush()
    if batch:
        yield from flush()
