from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AttributionConfig(AppConfig):
    name = "attribution"
    verbose_name = "Website attribution"

    def ready(self) -> None:
        from attribution import calls, dashboard, sites, webhooks
        from attribution.models import Source, SourceNumber, Website
        from integrations import payloads
        from tracking import dashboard as tracking_dashboard
        from tracking import services
        from tracking.models import TrackingNumber

        # A call's attribution is written in the same statement as the call's start.
        services.register_start_writer(calls.attribution_statement)
        # Outbound webhooks' call events carry it.
        payloads.register_attribution(webhooks.call_attribution)
        # The admin dashboard shows the top sources beside the top campaigns.
        tracking_dashboard.register_panel(dashboard.PANEL)

        # The number endpoint keeps websites' settings for a few seconds; a change made in this
        # process reaches it at once.
        def forget(**kwargs) -> None:
            sites.forget_configs()

        for model in (Website, Source, SourceNumber, TrackingNumber):
            post_save.connect(
                forget, sender=model, weak=False, dispatch_uid=f"dni-s-{model.__name__}"
            )
            post_delete.connect(
                forget, sender=model, weak=False, dispatch_uid=f"dni-d-{model.__name__}"
            )
