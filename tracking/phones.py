"""Phone numbers: E.164 for storage, human formats for display, never an exception for junk."""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

# A number as Twilio sends and we store it: "+", a country code, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{1,14}")


def is_e164(value: str) -> bool:
    return _E164.fullmatch(value) is not None


def to_e164(raw: str, region: str | None = None) -> str:
    """Return `raw` as E.164, reading it in `region` when it has no country code.

    Raises ValidationError with a message a marketer can act on.
    """
    region = region or settings.PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "“%(raw)s” is not a phone number. Enter it with its country code, e.g. +15125550100.",
            params={"raw": raw},
            code="invalid_phone",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "“%(raw)s” is not a valid number in its country. Check the digits and country code.",
            params={"raw": raw},
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(raw: str) -> str:
    """E.164 for anything that reads as a phone number; the input, stripped, for anything else.

    Twilio sends `anonymous`, `+266696687`, empty strings or worse in `From`: those are kept as
    given so that the call is still logged and routed.
    """
    return _normalized(raw.strip(), settings.PHONE_DEFAULT_REGION)


# Every call to a tracking number names it again, and callers call again: parsing is the
# costly part of reading a webhook's parameters.
@functools.lru_cache(maxsize=4096)
def _normalized(raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    """How people in the number's own country write it, e.g. (512) 555-0100; junk as given."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def validate_phone_number(value: str) -> None:
    """Field validator: any valid number, however typed; `clean()` then stores it as E.164."""
    to_e164(value)


def e164_or_as_typed(value: str) -> str:
    """E.164 when `value` is valid; as typed otherwise, for the validator to report."""
    try:
        return to_e164(value)
    except ValidationError:
        return value
