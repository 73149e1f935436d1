"""The sentence the callee hears before deciding to take a call.

The admin preview and the whisper webhook both build it here, so what a marketer previews is
exactly what the callee hears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = (
    "campaign",
    "city",
    "state",
    "country",
    "location",
    "source",
    "keyword",
    "choice",
    "name",
    "history",
    "note",
)
# Website attribution's placeholders: the call's source and the visit's search keyword.
SOURCE_PLACEHOLDERS = ("{source}", "{keyword}")
# What is known of the caller: said in the words of a proper sentence when unknown.
CONTEXT_FALLBACKS = {
    "choice": "no menu choice",
    "name": "an unknown caller",
    "history": "a first-time caller",
    "note": "no note",
}
# Placeholders that need the caller's earlier calls read, which costs a query.
HISTORY_PLACEHOLDERS = {"history"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# Twilio sends two-letter codes; a voice reads "TX" as "T X", so name the place instead.
REGION_NAMES = {
    "US": {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "DC": "Washington D.C.",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
        "PR": "Puerto Rico",
    },
    "CA": {
        "AB": "Alberta",
        "BC": "British Columbia",
        "MB": "Manitoba",
        "NB": "New Brunswick",
        "NL": "Newfoundland and Labrador",
        "NS": "Nova Scotia",
        "NT": "Northwest Territories",
        "NU": "Nunavut",
        "ON": "Ontario",
        "PE": "Prince Edward Island",
        "QC": "Quebec",
        "SK": "Saskatchewan",
        "YT": "Yukon",
    },
}


@dataclass(frozen=True)
class CallerPlace:
    city: str = ""
    state: str = ""
    country: str = ""

    @property
    def state_name(self) -> str:
        state = self.state.strip()
        return REGION_NAMES.get(self.country.strip().upper() or "US", {}).get(state.upper(), state)

    @property
    def spoken(self) -> str:
        """ "Austin, Texas", "Texas", "Austin" or "" — never "None" or a dangling comma."""
        parts = [
            self.city.strip().title() if self.city.isupper() else self.city.strip(),
            self.state_name,
        ]
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class CallerContext:
    """What is known of a caller besides their place. `calls_before` None: not looked up."""

    choice: str = ""
    name: str = ""
    note: str = ""
    calls_before: int | None = None
    last_taken: bool | None = None

    @property
    def history(self) -> str:
        """ "called twice before, last call taken", or "" when this is their first call."""
        if not self.calls_before:
            return ""
        times = {1: "once", 2: "twice"}.get(self.calls_before, f"{self.calls_before} times")
        words = f"called {times} before"
        if self.last_taken is not None:
            words += ", last call " + ("taken" if self.last_taken else "missed")
        return words


def uses_history(template: str) -> bool:
    return bool(HISTORY_PLACEHOLDERS & set(_PLACEHOLDER.findall(template)))


def unknown_placeholders(template: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})


def _tidy(text: str) -> str:
    # A template such as "{city}, {state}" with no location must not be read as ", ".
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\(\s*[,\s]*\)", "", text)
    text = re.sub(r"(\s*,)+", ",", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r",([.!?;:])", r"\1", text)
    text = re.sub(r"^[\s,.;:]+", "", text)
    text = re.sub(r"[\s,;:]+$", "", text)
    return text.strip()


def announcement(
    *,
    campaign: str,
    place: CallerPlace,
    announce_location: bool,
    template: str,
    accept_digit: str,
    context: CallerContext | None = None,
    source: str = "",
    keyword: str = "",
) -> str:
    """Build the whisper: the campaign (and place, if allowed), what is known of the caller,
    then how to accept or decline.

    `source` (a website source, e.g. "Google Ads") falls back to the campaign when unknown;
    `keyword` (the visit's search term) to nothing."""
    context = context or CallerContext()
    if not announce_location:
        place = CallerPlace()
    if template.strip():
        known = {
            "choice": _spoken(context.choice),
            "name": _spoken(context.name),
            "history": context.history,
            "note": _spoken(context.note),
        }
        fallbacks = {name: CONTEXT_FALLBACKS[name] for name, value in known.items() if not value}
        values = placeholder_values(
            campaign=campaign,
            place=place,
            template=template,
            source=source.strip() or campaign,
            keyword=keyword.strip(),
            **{name: value or CONTEXT_FALLBACKS[name] for name, value in known.items()},
        )
        # A template that names nothing known at all still says where the call comes from.
        intro = _tidy(fill(template, values)) or f"Call from {campaign}"
        for phrase in fallbacks.values():
            # "No note." where a sentence starts, "no note" inside one.
            intro = re.sub(
                rf"(^|[.!?]\s+){re.escape(phrase)}",
                lambda m, phrase=phrase: m.group(1) + phrase.capitalize(),
                intro,
            )
    else:
        intro = f"Call from {campaign}"
        if context.choice:
            intro += f", caller chose {_spoken(context.choice)}"
        if place.spoken:
            intro += f", caller in {place.spoken}"
        if context.name:
            intro = intro.rstrip(".!? ") + f". The caller is {_spoken(context.name)}"
            if context.note:
                intro += f": {_spoken(context.note)}"
        elif context.note:
            intro = intro.rstrip(".!? ") + f". Note: {_spoken(context.note)}"
    intro = intro.rstrip(".!? ") + "."
    return f"{intro} Press {_spoken_key(accept_digit)} to accept, or any other key to decline."


def placeholder_values(
    *, campaign: str, place: CallerPlace, template: str = "", **more: str
) -> dict[str, str]:
    """What each placeholder says for this call. A city Twilio does not know falls back to the
    state, so "caller from {city}" still names a place when it can (unless the template names
    the state itself, which would then be said twice)."""
    city = place.city.strip()
    city = city.title() if city.isupper() else city
    says_state = "{state}" in template or "{location}" in template
    return {
        "campaign": campaign,
        "city": city or ("" if says_state else place.state_name),
        "state": place.state_name,
        "country": place.country.strip(),
        "location": place.spoken,
        **more,
    }


# A clause: the words between two punctuation marks ("caller from {city}" in
# "Call from {campaign}, caller from {city}.").
# A comma between two placeholders ("{city}, {state}") joins one place, not two clauses.
_CLAUSE = re.compile(r"(?:[^,.;:!?]|(?<=\}),\s*(?=\{))+")


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled in, as a sentence that never breaks off.

    A clause whose placeholders are all unknown (empty) is left out whole: "Call from {campaign},
    caller from {city}." with no city says "Call from Spring Billboard." rather than "…, caller
    from." In a clause that also names something known, the unknown placeholder is left out
    with the preposition before it ("{campaign} call from {city}" → "Spring Billboard call").
    """

    def clause(match: re.Match[str]) -> str:
        text = match.group(0)
        names = _PLACEHOLDER.findall(text)
        known = [name for name in names if values.get(name, "")]
        if names and not known:
            return ""
        if len(known) < len(names):
            unknown = "|".join(re.escape(name) for name in set(names) - set(known))
            # First an unknown part of a place ("{city}, {state}" → "{state}"), then an unknown
            # placeholder with its preposition ("caller from {city}").
            text = re.sub(rf"\{{(?:{unknown})\}}\s*,\s*(?=\{{)", "", text)
            text = re.sub(rf"(?<=\}}),\s*\{{(?:{unknown})\}}", "", text)
            text = re.sub(
                r"(?i)(\b(?:in|from|near|at|of|around|via|by)\s+)?\{([^{}]*)\}",
                lambda m: m.group(0) if values.get(m.group(2), "") else "",
                text,
            )
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)

    return _CLAUSE.sub(clause, template)


def drops_words(template: str, values: dict[str, str]) -> list[str]:
    """The placeholders of `template` that are empty for `values`: words the callee won't hear."""
    return sorted({name for name in _PLACEHOLDER.findall(template) if not values.get(name, "")})


def _spoken(value: str) -> str:
    # A caller's name or a CRM's note is read out mid-sentence: no line breaks or trailing stop.
    return re.sub(r"\s+", " ", value).strip().rstrip(".!?;: ")


def _spoken_key(digit: str) -> str:
    return {"*": "star", "#": "pound"}.get(digit, digit)
