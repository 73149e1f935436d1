from __future__ import annotations

import pytest

from integrations.models import Endpoint, EventType
from tests.attribution.conftest import ads, ads_campaign, organic, website  # noqa: F401 (fixtures)
from tests.support.receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(db, receiver) -> Endpoint:
    """An endpoint for every call event, whose secret the receiver checks."""
    endpoint = Endpoint.objects.create(url=receiver.url, events=list(EventType.values))
    receiver.secrets.append(endpoint.secret)
    return endpoint


@pytest.fixture
def admin_mail(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "x")
