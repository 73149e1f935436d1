"""Asking a business's own endpoint what it knows of a caller, by caller ID.

The caller is ringing while we ask, so the question has a strict time budget
(CRM_LOOKUP_SECONDS): it runs in a worker thread and is abandoned, not awaited, once the budget
is spent. Every failure (no connection, an error status, a slow, oversized or malformed answer)
gives no answer, and says why: the call goes on without it.

The request: POST of JSON `{"type": "caller.lookup", "caller": "+1…", "called": "+1…",
"campaign": "…", "call_sid": "CA…"}`, signed the Standard Webhooks way (headers `webhook-id`,
`webhook-timestamp`, `webhook-signature`) with the campaign's secret. The answer: 200 with
`{"name": "…", "note": "…"}` (both optional, strings or null), or 404 for a caller it does not
know.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from tracking import phones

logger = logging.getLogger(__name__)

NAME_LENGTH = 100
NOTE_LENGTH = 300
# An answer is a few hundred bytes; anything much larger is not one.
MAX_ANSWER_BYTES = 16 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

# Enough threads for the calls that come in within one budget; a slow CRM holds one each.
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="crm-lookup")


@dataclass(frozen=True)
class CallerRecord:
    name: str = ""
    note: str = ""


class LookupFailed(Exception):
    pass


@dataclass(frozen=True)
class Question:
    url: str
    secret: str
    caller: str
    called: str
    campaign: str
    call_sid: str

    def body(self) -> str:
        return json.dumps(
            {
                "type": "caller.lookup",
                "caller": self.caller,
                "called": self.called,
                "campaign": self.campaign,
                "call_sid": self.call_sid,
            },
            separators=(",", ":"),
        )


def _text(value: object, length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LookupFailed(f"a {type(value).__name__} where text was expected")
    return _CONTROL.sub(" ", value).strip()[:length]


def parse(raw: bytes) -> CallerRecord:
    """The record in a CRM's answer; LookupFailed for anything but the documented JSON."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise LookupFailed("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise LookupFailed("the answer is not a JSON object")
    return CallerRecord(
        name=_text(data.get("name"), NAME_LENGTH), note=_text(data.get("note"), NOTE_LENGTH)
    )


def _ask(question: Question, timeout: float) -> CallerRecord:
    body = question.body()
    message_id = f"msg_{question.call_sid}"
    now = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "call-tracking/crm-lookup",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(question.secret).sign(message_id, now, body),
    }
    with requests.post(
        question.url,
        data=body.encode(),
        headers=headers,
        timeout=timeout,
        allow_redirects=False,
        stream=True,
    ) as response:
        if response.status_code == 404:
            return CallerRecord()
        if response.status_code != 200:
            raise LookupFailed(f"it answered HTTP {response.status_code}")
        raw = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
    if len(raw) > MAX_ANSWER_BYTES:
        raise LookupFailed("the answer is too long")
    return parse(raw)


def lookup(question: Question, *, budget: float | None = None) -> CallerRecord | None:
    """What the CRM knows of the caller (an empty record: nothing), or None when it failed.

    Never waits longer than `budget` seconds, and never raises. Callers without a number
    (anonymous, withheld) are not asked about.
    """
    if not phones.is_e164(question.caller):
        return CallerRecord()
    budget = settings.CRM_LOOKUP_SECONDS if budget is None else budget
    future = _pool.submit(_ask, question, budget)
    try:
        return future.result(timeout=budget)
    except (FutureTimeout, requests.Timeout):
        reason = f"no answer within {budget:g} s"
    except LookupFailed as error:
        reason = str(error)
    except requests.RequestException as error:
        reason = f"{type(error).__name__}: {error}"
    except Exception as error:  # a CRM must never fail a call
        reason = f"{type(error).__name__}: {error}"
    logger.warning(
        "CRM lookup for call %s at %s failed: %s", question.call_sid, question.url, reason
    )
    return None
