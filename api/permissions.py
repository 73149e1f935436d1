"""The admin's permissions, applied to API requests, and the token's scope on top of them."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from api.models import ApiToken

ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class AdminPermissions(permissions.BasePermission):
    """What the token's user may do with the view's `permission_model` in the admin.

    Reading needs the view or the change permission, as the admin's own pages do; writing
    needs add, change or delete, and a read-and-write token. A view may name a different model
    whose permissions govern it (a campaign's destinations follow the campaign's; reports
    follow the calls').
    """

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated("Send an API token: “Authorization: Bearer <token>”.")
        opts = view.permission_model._meta
        user = request.user
        if request.method in permissions.SAFE_METHODS:
            return any(
                user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
                for action in ("view", "change")
            )
        if not token.can_write:
            raise exceptions.PermissionDenied("This token is read-only.")
        action = ACTIONS.get(request.method)
        return action is not None and user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
