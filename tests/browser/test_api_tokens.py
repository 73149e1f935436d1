"""A marketer makes an API token in the admin, copies it from the page, and uses it."""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth.models import User

from api.models import ApiToken
from tests.api.conftest import marketers

pytestmark = pytest.mark.browser


def test_a_marketer_makes_a_token_and_calls_the_api_with_it(page, live_server, screenshots):
    marketer = User.objects.create_user("marketing", password="a-long-test-password", is_staff=True)
    marketer.groups.add(marketers())

    page.goto("/admin/")
    page.fill("#id_username", "marketing")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))

    page.get_by_role("link", name="API tokens").first.click()
    page.get_by_role("link", name=re.compile("Add API token")).click()
    page.fill("#id_name", "CRM sync")
    page.select_option("#id_scope", "read")
    page.click("input[name=_save]")

    key = page.input_value("#api-token-key")
    assert re.fullmatch(r"ct_[A-Za-z0-9_-]{43}", key)
    for width, name in [(1440, "api-token.png"), (390, "api-token-phone.png")]:
        page.set_viewport_size({"width": width, "height": 900})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"the page overflows {width} px"
        assert page.locator("#api-token-key").is_visible()
        page.screenshot(path=screenshots / name, full_page=True)
    token = ApiToken.objects.get()
    assert (token.user, token.scope) == (marketer, "read")

    answer = requests.get(
        f"{live_server.url}/api/v1/campaigns/",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json() == []

    # The list shows the token by its first characters only.
    page.goto("/admin/api/apitoken/")
    listing = page.locator("#result_list").inner_text()
    assert "CRM sync" in listing and token.prefix in listing and key not in listing
