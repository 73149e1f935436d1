"""An admin connects a receiver: adds the endpoint, keeps the secret shown once, sends a test
event, and reads the delivery in the log. The receiver is real and checks the signature."""

from __future__ import annotations

import re
import secrets

import pytest
from django.contrib.auth.models import User

from integrations.models import Endpoint
from tests.support.jobs import work
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def test_an_admin_connects_a_receiver_and_reads_its_delivery(page, receiver, tmp_path):
    password = secrets.token_urlsafe(16)
    User.objects.create_superuser("admin", "admin@example.com", password)
    page.goto("/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))

    page.goto("/admin/integrations/endpoint/add/")
    page.fill("#id_url", receiver.url)
    page.fill("#id_description", "CRM")
    page.get_by_label("call.completed: a call ended (with its recordings)").check()
    page.click("input[name=_save]")
    secret = page.locator("#webhook-secret").inner_text()
    assert secret == Endpoint.objects.get().secret
    page.screenshot(path=tmp_path / "webhook-secret.png", full_page=True)
    receiver.secrets.append(secret)

    page.get_by_role("link", name="Done").click()
    assert secret not in page.content(), "shown once"
    receiver.replies = [Reply(200, "<b>ok</b>")]
    page.click("#send-test")
    page.wait_for_url(re.compile(r"/admin/integrations/delivery/\d+/change/$"))
    work()  # the worker's part
    page.reload()

    [request] = receiver.received
    assert request.verified_with == [secret]
    assert page.locator(".field-status .readonly").inner_text() == "Delivered"
    assert page.locator("pre.webhook-answer").inner_text() == "<b>ok</b>"
    page.screenshot(path=tmp_path / "webhook-delivery.png", full_page=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the delivery page overflows {width} px by {overflow} px"
