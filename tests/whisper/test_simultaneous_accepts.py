"""Destinations rung all at once that accept at the same moment, each on its own connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from tests.twilio_signing import TwilioPoster
from tests.whisper.steps import answered, incoming, pressed
from tracking.models import Call, CallLeg

ROUNDS = 5


def _at_once(*requests):
    """Run each request in its own thread (its own database connection), all released at
    the same moment; their answers, in order."""
    start = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def run(n: int) -> None:
        try:
            start.wait()
            answers[n] = requests[n]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _accept(whisper, leg_sid: str):
    return lambda: pressed(TwilioPoster(Client()), whisper, "1", leg_sid)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_destinations_accepting_at_the_same_moment_join_exactly_one(all_at_once):
    for attempt in range(ROUNDS):
        sid = f"CA{attempt}00"
        twilio = TwilioPoster(Client())
        response = incoming(twilio, sid=sid)
        legs = [f"CA{attempt}2{n}" for n in range(3)]
        whispers = [answered(twilio, response, leg_sid, leg=n) for n, leg_sid in enumerate(legs)]

        answers = _at_once(*map(_accept, whispers, legs))

        joined = [n for n, answer in enumerate(answers) if len(answer) == 0]
        assert len(joined) == 1, [[el.tag for el in answer] for answer in answers]
        assert all([el.tag for el in answers[n]] == ["Hangup"] for n in {0, 1, 2} - set(joined))
        call = Call.objects.get(call_sid=sid)
        results = [leg.result for leg in call.legs.order_by("position")]
        assert results[joined[0]] == CallLeg.Result.ACCEPTED
        assert sorted(results) == sorted([CallLeg.Result.ACCEPTED] + [CallLeg.Result.CANCELED] * 2)
        assert call.answered_by == call.legs.get(position=joined[0]).label
        assert call.outcome == Call.Outcome.ACCEPTED
