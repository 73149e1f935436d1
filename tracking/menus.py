"""The menu a caller hears before anything rings: options, the choice, and what it rings.

A campaign with a menu greeting plays it with its options in one `<Gather>` that takes a key or
spoken words. The choice picks the destinations to ring (in the campaign's ring order); no
answer picks the default option, and a wrong key plays the menu once more before the default.
Everything the webhooks need is copied into the cached route (`MenuChoice`), so the menu plays
and routes while the database is down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

MENU_KEYS = [(key, key) for key in "123456789"]
MAX_OPTIONS = len(MENU_KEYS)
# A wrong key plays the menu this many times in all before the default option is taken.
MENU_TRIES = 2
WRONG_KEY = "Sorry, that is not one of the options."


def spoken_words(value: str) -> tuple[str, ...]:
    """ "Billing, invoices" → ("billing", "invoices"): what a caller may say for an option."""
    return tuple(word.strip().lower() for word in value.split(",") if word.strip())


class MenuOption(models.Model):
    """One option of a campaign's menu: its key, its name, and the destinations it rings."""

    campaign = models.ForeignKey(
        "tracking.Campaign", on_delete=models.CASCADE, related_name="menu_options"
    )
    key = models.CharField(max_length=1, choices=MENU_KEYS)
    label = models.CharField(max_length=60, help_text="e.g. “Billing”, “New customer”.")
    words = models.CharField(
        "spoken words",
        max_length=120,
        blank=True,
        help_text="Words a caller may say instead of pressing the key, comma-separated.",
    )
    destinations = models.ManyToManyField(
        "tracking.Destination",
        blank=True,
        related_name="menu_options",
        help_text="Rung in the campaign's order. None chosen: every destination.",
    )
    is_default = models.BooleanField(
        "default",
        default=False,
        help_text="Taken when the caller chooses nothing, or a wrong key twice.",
    )

    class Meta:
        ordering = ["campaign", "key"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="unique_menu_key"),
            models.UniqueConstraint(
                fields=["campaign"],
                condition=models.Q(is_default=True),
                name="one_default_menu_option",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.label}"

    def clean(self) -> None:
        if self.words and not spoken_words(self.words):
            raise ValidationError({"words": "Enter words separated by commas."})


@dataclass(frozen=True)
class MenuChoice:
    """An option as the cached route keeps it; `positions` index the route's destinations."""

    key: str
    label: str
    words: tuple[str, ...] = ()
    positions: tuple[int, ...] = ()
    is_default: bool = False

    @classmethod
    def from_cache(cls, data: dict) -> MenuChoice:
        return cls(**{**data, "words": tuple(data["words"]), "positions": tuple(data["positions"])})


def menu_of(options, destination_ids: list[int]) -> tuple[MenuChoice, ...]:
    """The cached form of `options` (with their destinations prefetched)."""
    choices = []
    for option in options:
        chosen = {destination.pk for destination in option.destinations.all()}
        positions = tuple(
            position for position, pk in enumerate(destination_ids) if not chosen or pk in chosen
        )
        choices.append(
            MenuChoice(
                key=option.key,
                label=option.label,
                words=spoken_words(option.words),
                positions=positions,
                is_default=option.is_default,
            )
        )
    return tuple(choices)


def default_choice(menu: tuple[MenuChoice, ...]) -> MenuChoice:
    """The option taken without an answer: the one marked default, else the first."""
    return next((choice for choice in menu if choice.is_default), menu[0])


_WORD = re.compile(r"[^\w\s]")


def match(menu: tuple[MenuChoice, ...], *, digits: str, speech: str) -> MenuChoice | None:
    """The option a caller chose by key or by voice; None for a key or words of no option."""
    if digits:
        return next((choice for choice in menu if choice.key == digits[:1]), None)
    said = f" {_WORD.sub(' ', speech.lower())} "
    said = re.sub(r"\s+", " ", said)
    for choice in menu:
        if any(f" {word} " in said for word in choice.words):
            return choice
    return None


def prompt(greeting: str, menu: tuple[MenuChoice, ...]) -> str:
    """The greeting and each option: "Thanks for calling. For Billing, press 1 or say billing."""
    sentences = [greeting.strip().rstrip(".!? ") + "."] if greeting.strip() else []
    for choice in menu:
        sentence = f"For {choice.label}, press {choice.key}"
        if choice.words:
            sentence += f" or say {choice.words[0]}"
        sentences.append(sentence + ".")
    return " ".join(sentences)
