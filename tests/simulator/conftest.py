from __future__ import annotations

import pytest

from whisper.simulator import SimulatedCall

TRACKING = "+15125550100"
CALLER = "+13125550123"
WHISPER = (
    "Call from Spring Billboard, caller in Austin, Texas. Press 1 to accept, or any other key "
    "to decline."
)
MISSED = "Sorry, nobody could take your call right now. Please try again a little later. Goodbye."


@pytest.fixture
def austin_call():
    """A call from Austin to the tracking number, answered as asked."""

    def make(answer: str = "accept", **changes: str) -> SimulatedCall:
        return SimulatedCall(
            **{
                "to": TRACKING,
                "caller": CALLER,
                "city": "AUSTIN",
                "state": "TX",
                "zip": "78701",
                "country": "US",
                "answer": answer,
                **changes,
            }
        )

    return make
