"""Admin for spam screening: the block list, and the spam actions and filter of the call list."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from tracking import screening, services
from tracking.models import BlockedCaller, Call

SPAM_OUTCOMES = [Call.Outcome.SPAM, Call.Outcome.BLOCKED]


@admin.register(BlockedCaller)
class BlockedCallerAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "note", "reported_call", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    fields = ["kind", "value", "note", "reported_call", "created_at"]
    readonly_fields = ["reported_call", "created_at"]
    date_hierarchy = "created_at"


class SpamFilter(admin.SimpleListFilter):
    title = "spam"
    parameter_name = "spam"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Spam or blocked"), ("no", "Not spam")]

    def queryset(self, request, queryset: QuerySet[Call]) -> QuerySet[Call]:
        if self.value() == "yes":
            return queryset.filter(outcome__in=SPAM_OUTCOMES)
        if self.value() == "no":
            return queryset.filter(~Q(outcome__in=SPAM_OUTCOMES))
        return queryset


class CallSpamActions:
    """The call list's actions on spam; each call is changed through the call-log services,
    so its outcome is derived again from what happened on the line."""

    actions = ["mark_spam", "mark_not_spam", "block_caller"]

    def has_label_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tracking.label_call")

    @admin.action(description="Mark as spam", permissions=["label"])
    def mark_spam(self, request: HttpRequest, queryset: QuerySet[Call]) -> None:
        sids = list(queryset.exclude(spam__gt="").values_list("call_sid", flat=True))
        for sid in sids:
            screening.call_set_spam(sid=sid, spam=Call.Spam.MARKED)
        self.message_user(request, f"{len(sids)} call(s) marked as spam.", messages.SUCCESS)

    @admin.action(description="Not spam", permissions=["label"])
    def mark_not_spam(self, request: HttpRequest, queryset: QuerySet[Call]) -> None:
        sids = list(queryset.filter(spam__gt="").values_list("call_sid", flat=True))
        for sid in sids:
            screening.call_set_spam(sid=sid, spam="")
        self.message_user(
            request,
            f"{len(sids)} call(s) no longer spam; callers blocked by a report on them are "
            "off the block list.",
            messages.SUCCESS,
        )

    @admin.action(description="Block caller", permissions=["label"])
    def block_caller(self, request: HttpRequest, queryset: QuerySet[Call]) -> None:
        blocked, skipped = 0, 0
        for call in queryset.select_related(None).only("call_sid", "caller_number"):
            entry = services.caller_block(call=call, note=f"Blocked from call {call.call_sid}")
            blocked, skipped = (blocked + 1, skipped) if entry else (blocked, skipped + 1)
        self.message_user(request, f"{blocked} caller(s) on the block list.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} call(s) had no caller number to block.", messages.WARNING
            )
