from __future__ import annotations

from django.db import models


class SignInAttempts(models.Model):
    """Admin sign-in attempts for one username from one address, in the current window.

    Counted before the password is checked, in a locked row, so that however many guesses
    arrive at once no more than the limit are ever checked; a successful sign-in deletes it.
    """

    # SHA-256 of the lower-cased username and the address: neither is kept in the clear.
    key = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    window_started = models.DateTimeField()

    class Meta:
        verbose_name_plural = "sign-in attempts"
        indexes = [
            # Expired windows are deleted by their start: WHERE window_started < %s.
            models.Index(fields=["window_started"], name="signin_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.attempts} attempts since {self.window_started:%Y-%m-%d %H:%M}"
