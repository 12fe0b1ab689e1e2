from __future__ import annotations

import pytest

from autoclip_core.db.usage import Usage
from resources.vendors.prices import cost_usd
from resources.vendors.usage import (
    VendorCalls,
    priced,
    recording_usage,
    report_answer,
    report_cache_hit,
    report_usage,
)

FLASH = "gemini-2.5-flash"


class Sink:
    """Stands in for VendorUsageRepository: keeps what would be written."""

    def __init__(self) -> None:
        self.written: list[tuple[str | None, list[Usage]]] = []

    def record(self, content_id: str | None, usages: list[Usage]) -> int:
        self.written.append((content_id, list(usages)))
        return len(usages)


def test_costs_come_from_the_price_table() -> None:
    assert cost_usd("gemini", "gemini-2.5-flash", {"input_tokens": 1e6, "output_tokens": 1e6}) == (
        pytest.approx(2.80)
    )
    assert cost_usd("elevenlabs", "eleven_multilingual_v2", {"characters": 1000}) == 0.1
    # A model the table lacks is priced at its provider's default row.
    assert cost_usd("openai", "tts-9", {"characters": 1e6}) == 15.0
    assert cost_usd("pexels", "search", {"requests": 3}) == 0.0


def test_a_batch_answer_costs_the_batch_rate() -> None:
    listed = {"input_tokens": 1e6, "output_tokens": 1e6}
    batched = {"batch_input_tokens": 1e6, "batch_output_tokens": 1e6}
    assert cost_usd("gemini", "gemini-2.5-flash", batched) == pytest.approx(1.40)
    assert cost_usd("gemini", "gemini-9", batched) == cost_usd("gemini", "gemini-9", listed) / 2
    # A provider without a batch price cannot be charged for batch units.
    with pytest.raises(KeyError, match="batch_characters"):
        cost_usd("elevenlabs", "eleven_multilingual_v2", {"batch_characters": 10})


def test_unknown_providers_and_units_are_errors_not_free_calls() -> None:
    with pytest.raises(KeyError, match="no prices for 'acme'"):
        cost_usd("acme", "m", {"requests": 1})
    with pytest.raises(KeyError, match="chars"):
        cost_usd("openai", "tts-1", {"chars": 10})


def test_reports_outside_a_recording_block_are_dropped() -> None:
    report_usage(priced("openai", "tts-1", {"characters": 5}))
    report_answer("tts", "openai")
    with recording_usage(None, None) as calls:
        pass
    assert calls == VendorCalls()
    assert calls.metadata() == {}


def test_a_block_gathers_usage_answers_and_cache_hits_for_metadata() -> None:
    sink = Sink()
    with recording_usage("item-1", sink) as calls:  # type: ignore[arg-type]
        report_usage(
            priced("gemini", "gemini-2.5-flash", {"input_tokens": 1000, "output_tokens": 10})
        )
        report_usage(
            priced("gemini", "gemini-2.5-flash", {"input_tokens": 500, "output_tokens": 0})
        )
        report_answer("llm", "gemini")
        report_cache_hit("elevenlabs")
        report_cache_hit("elevenlabs")
    assert calls.metadata() == {
        "vendor_calls": 2,
        "vendor_cost_usd": pytest.approx(1500 * 0.3e-6 + 10 * 2.5e-6),
        "vendor_units": {"gemini/gemini-2.5-flash": {"input_tokens": 1500, "output_tokens": 10}},
        "answered_by": {"llm": "gemini"},
        "vendor_cache_hits": {"elevenlabs": 2},
    }
    assert sink.written == [("item-1", calls.usages)]


def test_paid_calls_are_stored_even_when_the_step_fails() -> None:
    sink = Sink()

    def step() -> None:
        with recording_usage("item-1", sink):  # type: ignore[arg-type]
            report_usage(priced("openai", "tts-1", {"characters": 10}))
            raise RuntimeError("a later call failed")

    with pytest.raises(RuntimeError):
        step()
    assert [len(u) for _, u in sink.written] == [1]


def test_nothing_is_written_when_no_vendor_was_paid() -> None:
    sink = Sink()
    with recording_usage("item-1", sink):  # type: ignore[arg-type]
        report_cache_hit("openai")
    assert sink.written == []


def test_blocks_nest_and_the_inner_one_gets_the_reports() -> None:
    with recording_usage(None, None) as outer:
        with recording_usage(None, None) as inner:
            report_answer("tts", "openai")
        report_answer("visuals", "pexels")
    assert inner.answered_by == {"tts": "openai"}
    assert outer.answered_by == {"visuals": "pexels"}


def test_every_paid_provider_has_prices() -> None:
    import importlib
    import pkgutil

    import resources
    from resources.vendors.base import VendorResource

    # The registry imports a vendor's module only when it is chosen: load them all here.
    for module in pkgutil.walk_packages(resources.__path__, "resources."):
        importlib.import_module(module.name)
    from resources.vendors.prices import PRICES

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found))

    vendors = {c.vendor for c in subclasses(VendorResource) if "vendor" in vars(c)}
    assert vendors
    assert vendors <= set(PRICES)
