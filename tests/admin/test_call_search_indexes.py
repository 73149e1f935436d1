"""On PostgreSQL, every kind of call search reads an index, not the whole table."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tracking.models import Call
from tracking.search import calls_matching

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)


@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("555-0165", "call_caller_number_trgm_idx"),
        ("garcia", "call_caller_name_trgm_idx"),
        ("round rock", "call_caller_city_trgm_idx"),
        ("CA1ad4", "tracking_call_call_sid"),  # Django's LIKE index of the unique SID
    ],
)
def test_each_kind_of_search_can_read_its_index(db, term, index):
    # Unordered: the list's newest-first order lets the planner walk the date index instead,
    # which it does when the term is common; this asks whether the term's own index serves.
    calls = Call.objects.filter(calls_matching(term)).order_by()
    sql, params = calls.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is tiny, so the planner would rather scan it: forbid that to see which
        # index the query can use at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
