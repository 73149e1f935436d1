from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import signals, subscriptions  # noqa: F401
        from tracking import outbox

        outbox.register(subscriptions.listener)
