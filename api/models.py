"""API tokens: each acts for one admin user, with that user's permissions, read-only or not."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The token can do what this user may do in the admin, and no more.",
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “CRM sync”.")
    scope = models.CharField(
        max_length=10,
        choices=Scope.choices,
        default=Scope.READ,
        help_text="Read only: GET requests. Read and write: also creates, changes and deletes.",
    )
    # The token's first characters, to tell tokens apart; the rest is kept as a digest only.
    prefix = models.CharField(max_length=12, editable=False)
    # SHA-256 of the whole token; unique, so a request's token is found with one index lookup.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user", "name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE
