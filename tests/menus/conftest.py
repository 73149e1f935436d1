from __future__ import annotations

from tests.admin.conftest import marketer, marketer_client  # noqa: F401
