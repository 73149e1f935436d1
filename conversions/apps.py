from django.apps import AppConfig


class ConversionsConfig(AppConfig):
    name = "conversions"
    verbose_name = "Conversions"

    def ready(self) -> None:
        from conversions import (
            checks,  # noqa: F401 (registers the system check)
            timeline,
        )
        from conversions.listener import listener
        from tracking import outbox
        from tracking.admin import call_timeline

        outbox.register(listener)
        call_timeline.register(timeline.entries)
