"""The README's webhook documentation is true: its receiver works, its payload is ours."""

from __future__ import annotations

import json
import os
import re

import pytest
from django.test import RequestFactory

from integrations import delivery as sending
from integrations import services
from tests.support.jobs import work
from tests.support.receiver import Receiver
from tests.support.servers import ROOT
from tests.whisper.steps import answered, dial_done, incoming, pressed, status

pytestmark = pytest.mark.django_db

README = (ROOT / "README.md").read_text()


def _block(language: str, after: str) -> str:
    start = README.index(after)
    return re.search(rf"```{language}\n(.*?)```", README[start:], re.S).group(1)


def test_the_readmes_receiver_accepts_a_delivery_and_refuses_a_forgery(endpoint, receiver):
    sending.attempt(services.endpoint_send_test(endpoint=endpoint).pk)
    [request] = receiver.received
    handled = []
    code = {"already_handled": lambda _id: False, "handle": lambda *a: handled.append(a)}

    def post(body: str, headers: dict[str, str]):
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        return RequestFactory().post("/hooks/calls", body, content_type="application/json", **extra)

    os.environ["CALLTRACKING_WEBHOOK_SECRET"] = endpoint.secret
    try:
        exec(_block("python", "### Checking a delivery"), code)
    finally:
        del os.environ["CALLTRACKING_WEBHOOK_SECRET"]
    view = code["calls"]

    assert view(post(request.body, request.headers)).status_code == 204
    assert handled == [("webhook.test", request.payload["data"])]
    forged = request.body.replace("test event", "test evenT")
    assert view(post(forged, request.headers)).status_code == 400
    assert len(handled) == 1


def test_the_readmes_payload_has_the_fields_a_call_completed_event_has(
    twilio, number, endpoint, receiver: Receiver
):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), "1")
    dial_done(twilio, response, DialCallStatus="completed", DialBridged="true")
    status(twilio)
    work()
    sent = receiver.received[-1].payload
    documented = json.loads(_block("json", "### Events").replace("…", ""))

    assert sent["type"] == documented["type"] == "call.completed"
    assert sorted(sent) == sorted(documented)
    assert sorted(sent["data"]) == sorted(documented["data"])
    assert sorted(sent["data"]["caller"]) == sorted(documented["data"]["caller"])
    assert sorted(sent["data"]["destinations"][0]) == sorted(documented["data"]["destinations"][0])
