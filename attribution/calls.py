"""A call's attribution: the visit that held the number when the call rang, or the source the
number belongs to, and whether the caller has called before.

Worked out by the database as the call's start is written, in the same round trip on
PostgreSQL (one more statement on SQLite): an INSERT of what one SELECT finds for the call's
number at the call's start time. A spooled start, written after an outage, is attributed as
of when it rang. A pool number nobody held then is "unattributed", never guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection, models
from django.db.models import Case, Exists, F, FilteredRelation, Q, Value, When
from django.db.models.functions import Cast, Coalesce

from attribution.models import CallAttribution, SourceNumber
from tracking import sql
from tracking.announcement import SOURCE_PLACEHOLDERS
from tracking.models import Call, TrackingNumber

# Longer keywords are cut: the callee hears the whisper while the caller waits.
KEYWORD_SPOKEN = 60

Kind = CallAttribution.Kind
Role = SourceNumber.Role

# Copied from the visit, as they were when the call rang.
VISIT_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "fbclid",
    "landing_page",
    "landing_path",
    "referrer",
    "ga_client_id",
)
CONSENT_FIELDS = ("ad_user_data", "ad_personalization")


def _typed(value, field: models.Field):
    # Cast on PostgreSQL, whose server-side parameters must know their type in a SELECT list;
    # SQLite's CAST of a time would cut it to milliseconds.
    if connection.vendor == "postgresql":
        return Cast(Value(value), output_field=field)
    return Value(value, output_field=field)


def attribution_statement(call: Call) -> sql.Statement | None:
    """The INSERT of `call`'s attribution (None for a call to no tracking number)."""
    if not call.tracking_number_id:
        return None
    statement = _STATEMENTS[call.caller_number.startswith("+")]
    return statement.bind(
        sid=call.call_sid,
        number_id=call.tracking_number_id,
        at=call.started_at,
        caller=call.caller_number,
    )


def _build(*, sid: str, number_id: int, at, caller: str | None) -> sql.Statement:
    """The statement for one call, as the ORM writes it (`caller` None: a hidden number)."""
    held = FilteredRelation(
        "holds", condition=Q(holds__held_from__lte=at, holds__held_until__gt=at)
    )
    if caller is not None:
        earlier = Call.objects.filter(caller_number=caller, started_at__lt=at).exclude(call_sid=sid)
        first_time = Case(
            When(Exists(earlier), then=Value(False)),
            default=Value(True),
            output_field=models.BooleanField(),
        )
    else:
        first_time = Value(None, output_field=models.BooleanField(null=True))
    columns = {
        "call": _typed(sid, models.CharField()),
        "kind": Case(
            When(held__id__isnull=False, then=Value(Kind.VISIT)),
            When(website_use__role=Role.POOL, then=Value(Kind.UNATTRIBUTED)),
            When(website_use__role=Role.NUMBER, then=Value(Kind.SOURCE)),
            When(website_use__role=Role.OVERFLOW, then=Value(Kind.OVERFLOW)),
            default=Value(Kind.OFFLINE),
            output_field=models.CharField(),
        ),
        "started_at": _typed(at, models.DateTimeField()),
        "website": F("website_use__source__website_id"),
        "source": Case(
            When(held__id__isnull=False, then=F("held__source_id")),
            When(
                Q(website_use__role__in=[Role.NUMBER, Role.OVERFLOW]),
                then=F("website_use__source_id"),
            ),
            default=None,
            output_field=models.BigIntegerField(null=True),
        ),
        "hold": F("held__id"),
        "visit": F("held__visit_id"),
        "first_visit": F("held__visitor__first_visit_id"),
        "first_time_caller": first_time,
        **{
            name: Coalesce(F(f"held__visit__{name}"), Value(""), output_field=models.CharField())
            for name in VISIT_FIELDS
        },
        # The visitor's ad consent, unknown (NULL) without a visit.
        **{name: F(f"held__visit__{name}") for name in CONSENT_FIELDS},
    }
    aliases = {f"attribution_{name}": value for name, value in columns.items()}
    rows = (
        TrackingNumber.objects.filter(pk=number_id).annotate(held=held).values(**aliases).order_by()
    )
    return sql.insert_selected(CallAttribution, list(columns), rows)


# Stand-ins for the compiled statement's values: none of them can occur in a real call.
_STAND_INS = {
    "sid": ("CA-attribution-stand-in", Call._meta.get_field("call_sid")),
    "number_id": (-7_391_004, models.BigIntegerField()),
    "at": (
        datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC),
        Call._meta.get_field("started_at"),
    ),
}
_STATEMENTS = {
    # A caller with a number: whether they called before is asked of the call log.
    True: sql.Prepared(
        _build,
        {
            **_STAND_INS,
            "caller": ("+0-attribution-stand-in", Call._meta.get_field("caller_number")),
        },
    ),
    False: sql.Prepared(lambda *, caller=None, **values: _build(caller=None, **values), _STAND_INS),
}


def whisper_facts(call: Call) -> dict[str, str]:
    """The whisper's {source} and {keyword} for `call`: one query, made only when the
    campaign's whisper uses them; empty (the whisper's fallbacks) when unknown."""
    campaign = call.campaign
    template = campaign.whisper_template if campaign is not None else ""
    if not any(placeholder in template for placeholder in SOURCE_PLACEHOLDERS):
        return {}
    row = (
        CallAttribution.objects.filter(call_id=call.call_sid)
        .values_list("source__name", "utm_term")
        .first()
    )
    if row is None:
        return {}
    source, keyword = row
    # An ad's URL template left unfilled ("{keyword}") is no keyword.
    keyword = "" if "{" in keyword else keyword[:KEYWORD_SPOKEN]
    return {"source": source or "", "keyword": keyword}
