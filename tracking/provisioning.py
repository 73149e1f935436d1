"""Buying, pointing, releasing and importing the Twilio numbers behind tracking numbers.

Every Twilio request goes through `whisper.twilio_api`; every failure reaches the caller of these
functions as a `ProvisioningError` whose message a marketer can act on.

Nothing is left half-done:
- a number is only written locally once Twilio has sold it to us;
- if the local write fails after the purchase, the number is released again at once; should that
  release fail too, the error says so and `sync_twilio_numbers --campaign …` imports it later;
- a purchase whose answer was lost on the network may have happened: the error says to run
  `sync_twilio_numbers`, which finds it on the account.

A released number keeps its row (and so its call history): the row is made inactive and its
`twilio_sid` is cleared, since that SID no longer belongs to the account. Buying the same number
again later reuses the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse

from tracking import phones
from tracking.models import Campaign, TrackingNumber
from whisper import twilio_api
from whisper.twilio_api import AvailableNumber, IncomingNumber, NumberKind, VoiceConfig

logger = logging.getLogger(__name__)

PUBLIC_BASE_URL_HELP = (
    "Set PUBLIC_BASE_URL to the https address Twilio uses to reach this site "
    "(e.g. https://calls.example.com) in the server's environment or in .env, then restart the "
    "app."
)


class ProvisioningError(Exception):
    """Something the marketer has to know about, told in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def setup_problems() -> list[str]:
    """What is missing before numbers can be bought or re-pointed, each with how to fix it."""
    problems = []
    missing = twilio_api.missing_settings()
    if missing:
        problems.append(f"{' and '.join(missing)} not set. {twilio_api.SETUP_HELP}")
    if not settings.PUBLIC_BASE_URL:
        problems.append(
            "PUBLIC_BASE_URL is not set, so Twilio would not know where to send calls. "
            + PUBLIC_BASE_URL_HELP
        )
    return problems


def _require_setup() -> None:
    problems = setup_problems()
    if problems:
        raise ProvisioningError(" ".join(problems))


def voice_config(*, campaign: Campaign) -> VoiceConfig:
    """Where Twilio must send the calls of a number in `campaign`."""
    if not settings.PUBLIC_BASE_URL:
        raise ProvisioningError(PUBLIC_BASE_URL_HELP)
    base = settings.PUBLIC_BASE_URL
    return VoiceConfig(
        voice_url=base + reverse("whisper:incoming"),
        status_callback=base + reverse("whisper:status"),
        # Twilio asks it when the Voice URL fails: it routes from the cache alone.
        voice_fallback_url=base + reverse("whisper:fallback"),
        voice_caller_id_lookup=campaign.caller_name_lookup,
    )


def _twilio(action, **kwargs):
    try:
        return action(**kwargs)
    except twilio_api.TwilioError as error:
        raise ProvisioningError(error.message) from error


def numbers_search(
    *, country: str, kind: NumberKind, area_code: str = "", contains: str = "", limit: int = 20
) -> list[AvailableNumber]:
    """Numbers for sale, leaving out any this site already tracks."""
    _require_setup()
    found = _twilio(
        twilio_api.available_numbers,
        country=country,
        kind=kind,
        area_code=area_code,
        contains=contains,
        limit=limit,
    )
    tracked = set(
        TrackingNumber.objects.filter(
            phone_number__in=[n.phone_number for n in found], is_active=True
        ).values_list("phone_number", flat=True)
    )
    return [n for n in found if n.phone_number not in tracked]


def number_price(*, country: str, kind: NumberKind) -> str:
    """The monthly price of such a number, or "" when Twilio cannot say: a price that cannot
    be read never stops a search."""
    try:
        return twilio_api.number_price(country=country, kind=kind)
    except twilio_api.TwilioError as error:
        logger.warning("No number price for %s %s: %s", country, kind, error.message)
        return ""


def number_buy(*, phone_number: str, campaign: Campaign, label: str = "") -> TrackingNumber:
    """Buy `phone_number` on Twilio, pointed at the app, and track it in `campaign`.

    1. Refuse early (no Twilio request) what cannot be recorded: bad input, a number tracked
       already.
    2. Buy and configure the number in one Twilio request.
    3. Record it; if that fails, release it on Twilio again so that nothing is paid for that
       the site does not know about.
    """
    _require_setup()
    try:
        phone_number = phones.to_e164(phone_number)
    except ValidationError as error:
        raise ProvisioningError(error.messages[0]) from None
    existing = TrackingNumber.objects.filter(phone_number=phone_number).first()
    if existing is not None and existing.twilio_sid:
        raise ProvisioningError(
            f"{phones.national(phone_number)} is already on the account and tracked "
            f"({existing.campaign}). Nothing was bought."
        )

    try:
        bought = twilio_api.incoming_number_buy(
            phone_number=phone_number, config=voice_config(campaign=campaign)
        )
    except twilio_api.TwilioError as error:
        if error.network:
            raise ProvisioningError(
                f"{error.message} Twilio may or may not have sold {phone_number}: run "
                f"“python manage.py sync_twilio_numbers --campaign {campaign.pk}” to import it "
                "if it did."
            ) from error
        raise ProvisioningError(error.message) from error

    try:
        with transaction.atomic():
            row = existing or TrackingNumber(phone_number=bought.phone_number or phone_number)
            row.campaign = campaign
            row.twilio_sid = bought.sid
            row.is_active = True
            if label:
                row.label = label
            row.save()
    except DatabaseError:
        logger.exception("Bought %s (%s) but could not record it", phone_number, bought.sid)
        _undo_purchase(bought, campaign)
        raise ProvisioningError(
            f"{phones.national(phone_number)} could not be saved on this site, so it was "
            "released on Twilio again. Try again; if it keeps failing, tell whoever runs the "
            "site."
        ) from None
    return row


def _undo_purchase(bought: IncomingNumber, campaign: Campaign) -> None:
    try:
        twilio_api.incoming_number_release(sid=bought.sid)
    except twilio_api.TwilioError as error:
        logger.error("Could not release %s after a failed save: %s", bought.sid, error.message)
        raise ProvisioningError(
            f"{bought.phone_number} was bought on Twilio but could not be saved on this site, "
            f"and releasing it failed too ({error.message}). Run “python manage.py "
            f"sync_twilio_numbers --campaign {campaign.pk}” to import it."
        ) from error


def number_release(*, number: TrackingNumber) -> TrackingNumber:
    """Give the number back to Twilio; its row and calls stay, inactive and without a SID.

    A number Twilio no longer has counts as released: releasing twice is harmless.
    """
    if number.twilio_sid:
        problems = twilio_api.missing_settings()
        if problems:
            raise ProvisioningError(f"{' and '.join(problems)} not set. {twilio_api.SETUP_HELP}")
        try:
            twilio_api.incoming_number_release(sid=number.twilio_sid)
        except twilio_api.TwilioError as error:
            if not error.not_found:
                raise ProvisioningError(error.message) from error
    number.twilio_sid = ""
    number.is_active = False
    number.save(update_fields=["twilio_sid", "is_active", "updated_at"])
    return number


@dataclass(frozen=True)
class Change:
    """One line of a report: what happened (or would happen) to one number."""

    phone_number: str
    action: str
    detail: str = ""

    def __str__(self) -> str:
        line = f"{self.phone_number}: {self.action}"
        return f"{line} ({self.detail})" if self.detail else line


def numbers_repoint(*, numbers: list[TrackingNumber]) -> list[Change]:
    """Point each number's webhooks back at the app, touching only those that are wrong."""
    _require_setup()
    owned = {n.sid: n for n in _twilio(twilio_api.incoming_numbers)}
    changes = []
    for number in numbers:
        remote = owned.get(number.twilio_sid) if number.twilio_sid else None
        if remote is None:
            reason = "no Twilio SID" if not number.twilio_sid else "not on the Twilio account"
            changes.append(Change(number.phone_number, "skipped", reason))
            continue
        changes.append(_repoint(remote, number.campaign, dry_run=False))
    return changes


def _repoint(remote: IncomingNumber, campaign: Campaign, *, dry_run: bool) -> Change:
    config = voice_config(campaign=campaign)
    wrong = config.differences(remote)
    if not wrong:
        return Change(remote.phone_number, "unchanged")
    if not dry_run:
        _twilio(twilio_api.incoming_number_update, sid=remote.sid, config=config)
    return Change(remote.phone_number, "re-pointed", "; ".join(wrong))


def numbers_sync(
    *, campaign: Campaign | None, repoint: bool = False, dry_run: bool = False
) -> list[Change]:
    """Bring the local numbers in line with the account, one report line per number.

    1. Numbers known by SID stay as they are; known by phone number only, they get the SID.
    2. Unknown numbers join `campaign`, or are skipped without one.
    3. Webhooks that differ are re-pointed with `repoint`, otherwise reported.
    4. Local numbers whose SID the account does not have are reported, never changed.
    `dry_run` reports the same lines and writes nothing, here or on Twilio.
    """
    if twilio_api.missing_settings():
        raise ProvisioningError(setup_problems()[0])
    if repoint and not settings.PUBLIC_BASE_URL:
        raise ProvisioningError(PUBLIC_BASE_URL_HELP)
    remote_numbers = _twilio(twilio_api.incoming_numbers)
    by_sid = {n.twilio_sid: n for n in TrackingNumber.objects.exclude(twilio_sid="")}
    by_phone = {n.phone_number: n for n in TrackingNumber.objects.all()}
    changes = []
    for remote in remote_numbers:
        local = by_sid.get(remote.sid) or by_phone.get(remote.phone_number)
        actions = []
        if local is None:
            if campaign is None:
                changes.append(Change(remote.phone_number, "skipped", "not tracked; no --campaign"))
                continue
            local = TrackingNumber(phone_number=remote.phone_number, campaign=campaign)
            local.twilio_sid = remote.sid
            actions.append("created")
        elif local.twilio_sid != remote.sid:
            local.twilio_sid = remote.sid
            actions.append("linked sid")
        if actions and not dry_run:
            local.save()
        detail = ""
        if settings.PUBLIC_BASE_URL:
            wrong = voice_config(campaign=local.campaign).differences(remote)
            if wrong and repoint:
                if not dry_run:
                    _twilio(
                        twilio_api.incoming_number_update,
                        sid=remote.sid,
                        config=voice_config(campaign=local.campaign),
                    )
                actions.append("re-pointed")
                detail = "; ".join(wrong)
            elif wrong:
                detail = "webhooks differ, run with --repoint: " + "; ".join(wrong)
        else:
            detail = "webhooks not checked: PUBLIC_BASE_URL is not set"
        changes.append(Change(remote.phone_number, ", ".join(actions) or "unchanged", detail))
    remote_sids = {n.sid for n in remote_numbers}
    for sid, local in sorted(by_sid.items(), key=lambda item: item[1].phone_number):
        if sid not in remote_sids:
            changes.append(
                Change(local.phone_number, "missing", f"{sid} is not on the Twilio account")
            )
    return changes
