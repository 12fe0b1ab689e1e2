"""Asset code here: Dagster reads the asset's context annotation as a class, so no postponed
annotations in this module."""

import tempfile
from pathlib import Path

import dagster as dg
import pytest

from autoclip_core.schemas import CaptionCue, Language
from resources.errors import ProviderError, TTSError, VisualsError
from resources.tts.base import SpeechClip, TTSResource
from resources.tts.chain import TTSChain
from resources.vendors.chain import first_that_answers
from resources.vendors.usage import VendorCalls, priced, recording_usage, report_usage
from resources.visuals.base import SceneCard, VisualResult, VisualsResource
from resources.visuals.chain import VisualsChain


class ScriptedTTS(TTSResource):
    """Speaks by writing its name, or fails as told; reports a paid call when it speaks."""

    name: str
    failure: str = ""  # "", "final", "retryable"

    def voice_for(self, language: Language) -> str:
        return f"{self.name}-{language}"

    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        if self.failure:
            raise TTSError(
                f"{self.name} down", retryable=self.failure == "retryable", retry_after=2.0
            )
        out_wav.write_text(self.name)
        report_usage(priced("openai", "tts-1", {"characters": sum(map(len, phrases))}))
        return SpeechClip(
            duration=1.0, sample_rate=16000, cues=[CaptionCue(text=phrases[0], start=0, end=1)]
        )


class ScriptedVisuals(VisualsResource):
    name: str
    fails: bool = False

    def fingerprint_inputs(self) -> str:
        return self.name

    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        if self.fails:
            raise VisualsError(f"{self.name}: HTTP 404: no photo")
        out_path.write_text(self.name)
        return VisualResult(origin="generated")


def test_the_first_provider_that_answers_wins_and_is_reported() -> None:
    def call(p: str) -> str:
        if p != "c":
            raise ProviderError(f"{p} failed", retryable=p == "a")
        return p.upper()

    with recording_usage(None, None) as calls:
        assert first_that_answers("tts", [("a", "a"), ("b", "b"), ("c", "c")], call,
                                  error=TTSError) == ("C", "c")  # fmt: skip
    assert calls.answered_by == {"tts": "c"}
    assert calls.passed_over == {"tts": ["a", "b"]}


def test_when_all_fail_the_error_names_each_and_keeps_the_shortest_wait() -> None:
    failures = {
        "a": ProviderError("a: HTTP 401: bad key"),
        "b": ProviderError("b: HTTP 429", retryable=True, retry_after=30),
        "c": ProviderError("c: HTTP 503", retryable=True, retry_after=5),
    }

    def call(p: str) -> str:
        raise failures[p]

    with pytest.raises(TTSError) as caught:
        first_that_answers("tts", [(n, n) for n in "abc"], call, error=TTSError)
    assert str(caught.value) == (
        "every tts provider failed: a: a: HTTP 401: bad key; b: b: HTTP 429; c: c: HTTP 503"
    )
    assert caught.value.retryable
    assert caught.value.retry_after == 5


def test_final_failures_only_make_a_final_error() -> None:
    def call(p: str) -> str:
        raise ProviderError(f"{p} refused")

    with pytest.raises(VisualsError) as caught:
        first_that_answers("visuals", [("a", "a"), ("b", "b")], call, error=VisualsError)
    assert not caught.value.retryable
    assert caught.value.retry_after is None


def test_a_bug_is_not_hidden_by_the_next_provider() -> None:
    tried: list[str] = []

    def call(p: str) -> str:
        tried.append(p)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        first_that_answers("tts", [("a", "a"), ("b", "b")], call, error=TTSError)
    assert tried == ["a"]


def test_a_chain_of_one_is_the_provider_itself() -> None:
    only = ScriptedTTS(name="solo")
    assert TTSChain.of([("solo", only)]) is only
    with pytest.raises(ValueError, match="empty"):
        TTSChain.of([])


def test_chains_unfold_in_order_and_speak_with_the_first_voice() -> None:
    chain = TTSChain.of([(n, ScriptedTTS(name=n)) for n in ("eleven", "oai", "goog")])
    assert isinstance(chain, TTSChain)
    assert [(n, p.name) for n, p in chain.providers()] == [  # type: ignore[attr-defined]
        ("eleven", "eleven"), ("oai", "oai"), ("goog", "goog")
    ]  # fmt: skip
    assert chain.voice_for("ko") == "eleven-ko"


@dg.asset
def narration(context: dg.AssetExecutionContext, tts: TTSResource) -> str:
    with tempfile.TemporaryDirectory() as tmp, recording_usage(None, None) as calls:
        out = Path(tmp) / "speech.wav"
        tts.synthesize(["hello", "world"], "en", out)
        spoken = out.read_text()
    context.add_output_metadata(calls.metadata())
    return spoken


def test_a_tts_chain_falls_back_inside_an_asset_with_usage_and_answer_in_metadata() -> None:
    chain = TTSChain.of([
        ("eleven", ScriptedTTS(name="eleven", failure="final")),
        ("oai", ScriptedTTS(name="oai", failure="retryable")),
        ("goog", ScriptedTTS(name="goog")),
    ])  # fmt: skip
    result = dg.materialize([narration], resources={"tts": chain})
    assert result.output_for_node("narration") == "goog"
    (event,) = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["answered_by"] == {"tts": "goog"}
    assert metadata["providers_failed"] == {"tts": "eleven, oai"}
    assert metadata["vendor_calls"] == 1
    assert metadata["vendor_units"] == {"openai/tts-1": {"characters": 10.0}}
    assert metadata["vendor_cost_usd"] == pytest.approx(10 * 15e-6)


def test_a_visuals_chain_fingerprints_every_provider_and_falls_back(tmp_path: Path) -> None:
    chain = VisualsChain.of([
        ("pexels", ScriptedVisuals(name="pexels", fails=True)),
        ("local", ScriptedVisuals(name="local")),
    ])  # fmt: skip
    assert chain.fingerprint_inputs() == "pexels:pexels|local:local"
    card = SceneCard(headline="h", query="q", keywords=[], title="t", language="en", index=1,
                     total=3, width=1080, height=1920)  # fmt: skip
    with recording_usage(None, None) as calls:
        assert chain.scene_image(card, tmp_path / "x.png").origin == "generated"
    assert (tmp_path / "x.png").read_text() == "local"
    assert calls == VendorCalls(answered_by={"visuals": "local"},
                                passed_over={"visuals": ["pexels"]})  # fmt: skip
