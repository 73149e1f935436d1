"""What the person answering is told of a caller besides their place: the menu choice, a name
(the CRM's, else Twilio's caller name lookup), their earlier calls and the CRM's note.

Only what a campaign uses costs anything: the CRM is asked only by campaigns that have one,
and earlier calls are read only for a whisper that says them.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from crm import lookup as crm
from tracking import services
from tracking.announcement import CallerContext, uses_history
from tracking.models import Call
from tracking.routing import Route
from tracking.services import IncomingCall

logger = logging.getLogger(__name__)

# Earlier calls counted at most: "called 100 times before" says enough.
HISTORY_LIMIT = 100


def crm_facts(route: Route, call: IncomingCall) -> dict[str, str]:
    """The CRM's answer on the caller of a new call, as call-log fields; {} without one.

    A failure is logged (by the lookup) and counted on the campaign; a database that cannot
    count it does not fail the call.
    """
    if not route.crm_url:
        return {}
    record = crm.lookup(
        crm.Question(
            url=route.crm_url,
            secret=route.crm_secret,
            caller=call.caller,
            called=call.called,
            campaign=route.campaign_name,
            call_sid=call.sid,
        )
    )
    if record is None:
        try:
            services.crm_lookup_failed(campaign_id=route.campaign_id)
        except DatabaseError:
            logger.warning("Could not count a failed CRM lookup of campaign %s", route.campaign_id)
        return {}
    return {"crm_name": record.name, "crm_note": record.note}


def _history(call: Call) -> tuple[int, bool | None]:
    """How many calls the caller made before this one, and whether the last was taken."""
    if not call.caller_number.startswith("+"):
        return 0, None
    outcomes = list(
        call.earlier_calls()
        .order_by("-started_at")
        .values_list("outcome", flat=True)[:HISTORY_LIMIT]
    )
    if not outcomes:
        return 0, None
    return len(outcomes), outcomes[0] == Call.Outcome.ACCEPTED


def of(call: Call) -> CallerContext:
    """The context of `call` for its whisper."""
    calls_before, last_taken = None, None
    campaign = call.campaign
    if campaign is not None and uses_history(campaign.whisper_template):
        calls_before, last_taken = _history(call)
    return CallerContext(
        choice=call.menu_choice,
        name=call.crm_name or call.caller_name,
        note=call.crm_note,
        calls_before=calls_before,
        last_taken=last_taken,
    )
