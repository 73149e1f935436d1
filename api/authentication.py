"""`Authorization: Bearer <token>` for every API request."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api import tokens


class TokenAuthentication(authentication.BaseAuthentication):
    """The token's user, as long as that user may still sign in to the admin (active staff):
    a token never outlives its owner's access."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send “Authorization: Bearer <token>”.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = tokens.token_find(key)
        if token is None or not (token.user.is_active and token.user.is_staff):
            raise exceptions.AuthenticationFailed("Invalid token, or revoked.")
        tokens.token_touch(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes a missing or bad token a 401 that says how to authenticate, not a 403.
        return 'Bearer realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (and the docs page's "Authorize" button) describes the token."""

    target_class = "api.authentication.TokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token from the admin."}
