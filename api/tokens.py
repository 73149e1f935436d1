"""Issuing API tokens and finding the token a request carries.

A token is 32 random bytes, so a plain SHA-256 of it cannot be reversed or guessed: unlike a
password it needs no slow hash, and checking one costs a single index lookup per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from api.models import ApiToken

PREFIX = "ct_"
# last_used_at is a hint for people tidying their tokens: written at most this often, not on
# every request.
TOUCH_EVERY = timedelta(minutes=5)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, user, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for `user`, and its key: the only time the key exists outside a request."""
    key = new_key()
    token = ApiToken(user=user, name=name, scope=scope)
    token_set_key(token=token, key=key)
    token.save()
    return token, key


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_set_key(*, token: ApiToken, key: str) -> None:
    """Keep what identifies `key` on `token` (unsaved): its first characters and its digest."""
    token.prefix = key[:10]
    token.digest = digest(key)


def token_find(key: str) -> ApiToken | None:
    """The token whose key is `key`, with its user; None for a key nobody issued."""
    if not key.startswith(PREFIX) or len(key) > 100:
        return None
    return ApiToken.objects.select_related("user").filter(digest=digest(key)).first()


def token_touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
