"""Agents in the admin: who may answer calls in the browser, and whether they are available."""

from __future__ import annotations

from django.contrib import admin

from tracking.agents import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "identity", "is_available", "updated_at"]
    list_filter = ["is_available"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = []
    fields = ["user", "is_available"]
    raw_id_fields = ["user"]

    @admin.display(description="Twilio Client identity")
    def identity(self, agent: Agent) -> str:
        return agent.identity
