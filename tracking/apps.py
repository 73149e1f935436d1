from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Call tracking"

    def ready(self) -> None:
        from tracking import signals  # noqa: F401  (connects the routing-cache receivers)
