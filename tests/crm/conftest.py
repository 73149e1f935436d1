from __future__ import annotations

import pytest

from crm.signing import new_secret
from tests.support.fake_crm import FakeCrm


@pytest.fixture
def fake_crm():
    with FakeCrm(new_secret()) as crm:
        yield crm


@pytest.fixture
def crm_number(number, fake_crm):
    """Spring Billboard asks the fake CRM about every caller."""
    campaign = number.campaign
    campaign.crm_url = fake_crm.url
    campaign.crm_secret = fake_crm.secret
    campaign.save()
    return number
