"""What each vendor charges, per unit, in US dollars: the one table costs are computed from.

List prices from the vendors' pricing pages (late 2026, pay-as-you-go, no volume discounts).
A model not listed uses its provider's ``"*"`` row; a provider not listed is an error, so a
new provider cannot record calls as free by accident.
"""

from __future__ import annotations

from collections.abc import Mapping

PER_MILLION = 1e-6
PER_THOUSAND = 1e-3

# provider -> model -> unit -> USD per unit
PRICES: dict[str, dict[str, dict[str, float]]] = {
    "gemini": {
        "gemini-2.5-flash-lite": {
            "input_tokens": 0.10 * PER_MILLION,
            "output_tokens": 0.40 * PER_MILLION,
        },
        "gemini-2.5-flash": {
            "input_tokens": 0.30 * PER_MILLION,
            "output_tokens": 2.50 * PER_MILLION,
        },
        "gemini-2.5-pro": {"input_tokens": 1.25 * PER_MILLION, "output_tokens": 10.0 * PER_MILLION},
        "*": {"input_tokens": 0.30 * PER_MILLION, "output_tokens": 2.50 * PER_MILLION},
    },
    "elevenlabs": {
        "eleven_flash_v2_5": {"characters": 0.05 * PER_THOUSAND},
        "eleven_turbo_v2_5": {"characters": 0.05 * PER_THOUSAND},
        "eleven_multilingual_v2": {"characters": 0.10 * PER_THOUSAND},
        "*": {"characters": 0.10 * PER_THOUSAND},
    },
    "openai": {
        "tts-1": {"characters": 15.0 * PER_MILLION},
        "tts-1-hd": {"characters": 30.0 * PER_MILLION},
        "*": {"characters": 15.0 * PER_MILLION},
    },
    "google": {
        "standard": {"characters": 4.0 * PER_MILLION},
        "wavenet": {"characters": 4.0 * PER_MILLION},
        "neural2": {"characters": 16.0 * PER_MILLION},
        "chirp3-hd": {"characters": 30.0 * PER_MILLION},
        "*": {"characters": 16.0 * PER_MILLION},
    },
    "pexels": {"*": {"requests": 0.0}},
    "pixabay": {"*": {"requests": 0.0}},
    "openai-images": {
        # One portrait (1024x1536 or 1024x1792) image at the default quality.
        "gpt-image-1": {"images": 0.063},
        "dall-e-3": {"images": 0.08},
        "*": {"images": 0.063},
    },
    "creatomate": {
        # The Essential plan: 2,000 credits for $41.
        "*": {"credits": 41.0 / 2000},
    },
}


BATCH = "batch_"
"""Units answered through a provider's batch API are named with this prefix
(``batch_input_tokens``), so a usage row says how it was asked and is priced at that rate."""
BATCH_RATE: dict[str, float] = {"gemini": 0.5}
"""The share of the list price a provider's batch API charges (Gemini's Batch API: half)."""


def cost_usd(provider: str, model: str, units: Mapping[str, float]) -> float:
    """The price of ``units`` of ``model``; a unit the table has no price for is an error (a
    misspelt unit must not make a paid call free)."""
    try:
        models = PRICES[provider]
    except KeyError:
        raise KeyError(f"no prices for {provider!r} in resources/vendors/prices.py") from None
    rates = dict(models.get(model, models.get("*", {})))
    if provider in BATCH_RATE:
        rates |= {BATCH + unit: rate * BATCH_RATE[provider] for unit, rate in rates.items()}
    unknown = sorted(set(units) - set(rates))
    if unknown:
        raise KeyError(f"no price for {unknown} of {provider} {model}")
    return round(sum(rates[unit] * amount for unit, amount in units.items()), 9)
