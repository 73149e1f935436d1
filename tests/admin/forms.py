"""The campaign form as a browser posts it: its fields, and each inline's management form."""

from __future__ import annotations

from collections.abc import Iterable

from tracking.models import DEFAULT_VOICEMAIL_GREETING

CAMPAIGN_FIELDS = {
    "name": "Summer Radio",
    "is_active": "on",
    "ring_strategy": "sequential",
    "ring_timeout": "20",
    "whisper_template": "",
    "announce_location": "on",
    "accept_digit": "1",
    "whisper_voice": "Polly.Joanna",
    "whisper_language": "en-US",
    "voicemail_greeting": DEFAULT_VOICEMAIL_GREETING,
    "voicemail_audio_url": "",
    "voicemail_max_seconds": "120",
    "missed_message": "Sorry.",
    "time_zone": "America/Chicago",
    "after_hours_action": "voicemail",
    "after_hours_number": "",
    "recording_notice": "",
    "notify_emails": "",
    "menu_greeting": "",
    "challenge_attestation": "",
    "challenge_prefixes": "",
    "challenge_burst_calls": "0",
    "challenge_burst_minutes": "10",
    "spam_report_key": "",
    "lead_min_talk_seconds": "60",
    "lead_value": "",
    "lead_currency": "USD",
}
INLINES = ["destinations", "menu_options", "opening_hours", "holidays", "numbers"]


def rows(prefix: str, values: Iterable[dict[str, str]], initial: int = 0) -> dict[str, str]:
    """An inline formset's rows; the first `initial` of them are existing rows (with an id)."""
    values = list(values)
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(values)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(values):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def campaign_form(
    *,
    destinations: Iterable[dict[str, str]] = (),
    destinations_initial: int = 0,
    inlines: dict[str, dict[str, str]] | None = None,
    **fields: str,
) -> dict[str, str]:
    """The whole POST of the campaign add or change form; `inlines` replaces an inline's rows
    (built with `rows`), the other inlines are posted empty."""
    data = {**CAMPAIGN_FIELDS, **fields}
    data.update(rows("destinations", destinations, destinations_initial))
    for prefix in INLINES[1:]:
        data.update((inlines or {}).get(prefix) or rows(prefix, []))
    return {name: value for name, value in data.items() if value is not None}
