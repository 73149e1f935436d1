"""API tokens in the admin: each user makes their own; the key is shown once, then only its
digest is kept."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from api import tokens
from api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "scope", "shown_prefix", "created_at", "last_used_at"]
    list_filter = ["scope"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]

    def get_queryset(self, request: HttpRequest):
        tokens_ = super().get_queryset(request)
        # A marketer manages their own tokens; a superuser everyone's.
        return tokens_ if request.user.is_superuser else tokens_.filter(user=request.user)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["user", "name", "scope"] if request.user.is_superuser else ["name", "scope"]
        return ["user", "name", "scope", "shown_prefix", "created_at", "last_used_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return [] if obj is None else ["user", "shown_prefix", "created_at", "last_used_at"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user":
            # Only admin users: a token acts in the admin's name, and stops with that access.
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(
                is_staff=True, is_active=True
            ).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Token starts with")
    def shown_prefix(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if not change:
            if not request.user.is_superuser:
                obj.user = request.user
            obj.key = tokens.new_key()
            tokens.token_set_key(token=obj, key=obj.key)
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue=None):
        """The key, shown on this page only: it is in no redirect, message or cookie."""
        # The admin's views already forbid caching (never_cache): the page is not kept.
        return TemplateResponse(
            request,
            "admin/api/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Copy your API token",
                "token": obj,
                "key": obj.key,
            },
        )
