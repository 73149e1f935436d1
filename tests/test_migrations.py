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
