"""`manage.py check` says when a conversion destination is half-configured (and so off)."""

from __future__ import annotations

from django.core.checks import Warning, register

from conversions import config


@register()
def conversion_settings(app_configs, **kwargs) -> list[Warning]:
    warnings = []
    for name, problems in (
        ("Google Ads upload", config.google_ads_problems()),
        ("GA4 Measurement Protocol", config.ga4_problems()),
    ):
        if problems and problems != ["not configured"]:
            warnings.append(
                Warning(
                    f"The {name} is off: {'; '.join(problems)}.",
                    hint="See README, “Conversions (Google Ads, GA4)”.",
                    id="conversions.W001",
                )
            )
    return warnings
