"""The models and the migrations describe the same schema."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exit:
        pytest.fail(f"Models changed without a migration:\n{out.getvalue()} ({exit})")


@pytest.mark.django_db(transaction=True)
def test_each_campaigns_forward_number_becomes_its_first_destination():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("tracking", "0003_call_scale_indexes")], [("tracking", "0004_call_flows")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("tracking", "Campaign").objects.create(
        name="Flyer", forward_to="+15125550199"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new_apps = executor.loader.project_state(after).apps
    Destination = new_apps.get_model("tracking", "Destination")
    assert list(Destination.objects.values_list("campaign__name", "label", "phone_number")) == [
        ("Flyer", "Main line", "+15125550199")
    ]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_legs_written_before_the_leg_index_take_their_calls_start_and_campaign():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("tracking", "0005_call_started_idx_after_hours")]
    after = [("tracking", "0006_leg_report_index")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    campaign = old_apps.get_model("tracking", "Campaign").objects.create(name="Flyer")
    call = old_apps.get_model("tracking", "Call").objects.create(call_sid="CA1", campaign=campaign)
    old_apps.get_model("tracking", "CallLeg").objects.create(
        call=call, position=0, label="Front desk", phone_number="+15125550199"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new_apps = executor.loader.project_state(after).apps
    leg = new_apps.get_model("tracking", "CallLeg").objects.get()
    assert (leg.started_at, leg.campaign_id) == (call.started_at, campaign.pk)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_a_call_writes_only_the_indexes_its_reads_need():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's own indexes")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes"
            " WHERE tablename IN ('tracking_call', 'tracking_callleg')"
        )
        indexes = {(table.removeprefix("tracking_"), name) for table, name in cursor.fetchall()}

    # Each index is written on every call, so each is here for a read that needs it, and no
    # index repeats the start of another: a new one is a decision, made here.
    assert indexes == {
        # keys
        ("call", "tracking_call_pkey"),
        ("call", "tracking_call_call_sid_key"),
        ("callleg", "tracking_callleg_pkey"),
        ("callleg", "unique_call_leg"),
        ("callleg", "tracking_callleg_destination_id_b9fd7d1b"),
        # the call list, the reports and the dashboard
        ("call", "call_started_idx"),
        ("call", "call_campaign_started_idx"),
        ("call", "call_number_started_idx"),
        ("callleg", "callleg_started_idx"),
        # the call-back list, and a caller's earlier calls
        ("call", "call_callback_idx"),
        ("call", "call_caller_started_idx"),
        # the call list's search: the start of a Call SID, any part of a number, name or city
        ("call", "tracking_call_call_sid_3c188cc5_like"),
        ("call", "call_caller_number_trgm_idx"),
        ("call", "call_caller_name_trgm_idx"),
        ("call", "call_caller_city_trgm_idx"),
        # the API's "calls updated since"
        ("call", "call_updated_idx"),
    }
