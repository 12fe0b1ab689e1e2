"""The Creatomate renderer against a fake of Creatomate's documented render API: the request
it posts, the render lifecycle it follows, the file it downloads, and how each failure ends
(at once, or retried)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from autoclip_assets.publishing import audit_video
from autoclip_core.render.engine import RenderJob
from autoclip_core.render.probe import probe
from autoclip_core.render.renderscript import RenderScript, parse_render_script
from autoclip_core.schemas import CaptionCue, Narration, NarrationSegment, RenderedVideo
from autoclip_core.settings import Settings
from resources.errors import RendererError
from resources.registry import ProviderConfigError, provider
from resources.renderer.base import RendererResource
from resources.renderer.creatomate import (
    CreatomateClient,
    CreatomateEngine,
    CreatomateRenderer,
    render_body,
    render_credits,
)
from resources.renderer.ffmpeg import FFmpegRenderer
from resources.storage.filesystem import FilesystemStorage
from resources.vendors.cache import AnswerCache
from resources.vendors.http import RetryPolicy, VendorClient
from resources.vendors.usage import recording_usage
from tests.fakes.clips import make_mp4
from tests.fakes.creatomate import API_KEY, FakeCreatomate
from tests.fakes.faults import malformed_json, rate_limited, reset, stall, unavailable
from tests.fakes.net import forbid_outside_connections, running_server
from tests.fakes.server import Reply


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCreatomate]:
    forbid_outside_connections(monkeypatch)
    # The render's file is downloaded through the SSRF-guarded fetcher, which refuses
    # loopback unless allowed.
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    with running_server() as server:
        server.route("/media/photo.png", Reply(body=b"png", headers={"Content-Type": "image/png"}))
        server.route("/media/voice.wav", Reply(body=b"wav", headers={"Content-Type": "audio/wav"}))
        yield FakeCreatomate(server, polls_per_state=2)


def script_for(fake: FakeCreatomate, **changes: Any) -> RenderScript:
    data: dict[str, Any] = {
        "width": 180,
        "height": 320,
        "frame_rate": 15,
        "duration": 2,
        "elements": [
            {"type": "image", "source": fake.server.url("/media/photo.png")},
            {
                "type": "audio",
                "name": "voice",
                "source": fake.server.url("/media/voice.wav"),
                "duck_under": None,
            },
            {"type": "audio", "source": fake.server.url("/media/voice.wav"), "duck_under": "voice"},
            {"type": "text", "transcript_source": "voice", "y": "80%"},
        ],
    }
    return parse_render_script(data | changes)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def engine_for(fake: FakeCreatomate, *, key: str = API_KEY, **options: Any) -> CreatomateEngine:
    http = VendorClient(
        "creatomate",
        timeout=options.pop("http_timeout", 5.0),
        policy=RetryPolicy(attempts=3, base=0.01, cap=8.0),
        secrets=[key],
        sleep=options.pop("http_sleep", Sleeps()),
    )
    client = CreatomateClient(fake.base_url, key, http)
    return CreatomateEngine(client, poll_interval_s=0.0, **options)


def job_in(tmp_path: Path, script: RenderScript, snapshot: bool = True) -> RenderJob:
    return RenderJob(
        script, tmp_path / "out.mp4", tmp_path, tmp_path / "thumb.jpg" if snapshot else None
    )


# the request -------------------------------------------------------------------------------


def test_the_body_is_the_renderscript_at_the_top_level_as_mp4_without_local_extensions() -> None:
    script = parse_render_script(
        {
            "width": 720,
            "height": 1280,
            "elements": [
                {"type": "audio", "source": "https://cdn.example/a.mp3", "duck_under": "v"},
                {"type": "text", "text": "Hi"},
            ],
        }
    )
    body = render_body(script)
    assert body["output_format"] == "mp4"
    assert (body["width"], body["height"]) == (720, 1280)
    assert "source" not in body
    assert "template_id" not in body
    assert body["elements"][0] == {
        "type": "audio",
        "source": "https://cdn.example/a.mp3",
        "fit": "cover",
        "z_index": 0,
        "animations": [],
        "loop": False,
    }
    assert "duration" not in body  # unset stays unset: Creatomate then sizes it to the media
    assert body["elements"][1]["text"] == "Hi"
    assert body["elements"][1]["font_family"] == "Nanum Gothic"  # Google Fonts' name for it


def test_a_local_media_file_is_refused_before_anything_is_paid_for(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    script = script_for(fake)
    scene = script.elements[0].model_copy(update={"source": "scene-1.png"})
    local = script.model_copy(update={"elements": [*script.elements[1:], scene]})
    with pytest.raises(RendererError, match=r"http\(s\) URLs.*scene-1\.png") as caught:
        engine_for(fake).render(job_in(tmp_path, local))
    assert caught.value.retryable is False
    assert fake.server.hits("/v2/renders") == []


# the lifecycle -----------------------------------------------------------------------------


def test_a_render_is_posted_polled_through_its_states_and_downloaded(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    fractions: list[float] = []
    job = job_in(tmp_path, script_for(fake))
    stats = engine_for(fake).render(job, fractions.append)

    posts = fake.server.hits("/v2/renders")
    assert [p.method for p in posts] == ["POST"]
    assert posts[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert posts[0].headers["content-type"] == "application/json"
    sent = json.loads(posts[0].body)
    assert sent["output_format"] == "mp4"
    assert sent["elements"][3]["transcript_source"] == "voice"
    assert all("duck_under" not in e for e in sent["elements"])

    (render_id,) = fake.renders
    polls = fake.server.hits(f"/v2/renders/{render_id}")
    # planned ×2 (the POST's answer is the first), transcribing ×2, rendering ×2, succeeded
    assert len(polls) == 7
    assert all(p.method == "GET" for p in polls)
    assert all(p.headers["authorization"] == f"Bearer {API_KEY}" for p in polls)
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert fake.downloads == 1

    info = probe(job.out_mp4)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (180, 320)
    assert info.audio is not None
    assert stats.duration == pytest.approx(2.0, abs=0.1)
    assert stats.size_bytes == job.out_mp4.stat().st_size
    assert stats.command[-1] == render_id
    assert job.snapshot is not None
    assert job.snapshot.read_bytes()[:2] == b"\xff\xd8"


def test_a_failed_render_fails_the_item_with_creatomates_reason(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    script = script_for(fake)
    missing = fake.server.url("/media/gone.png")
    broken = script.model_copy(
        update={"elements": [script.elements[0].model_copy(update={"source": missing})]}
    )
    with pytest.raises(RendererError, match=r"failed: The source .*gone\.png") as caught:
        engine_for(fake).render(job_in(tmp_path, broken))
    assert caught.value.retryable is False
    assert not (tmp_path / "out.mp4").exists()


def test_a_render_that_does_not_finish_in_time_may_be_tried_again(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    fake.polls_per_state = 10_000
    with pytest.raises(RendererError, match=r"still planned after 0\.3 s") as caught:
        engine_for(fake, timeout_s=0.3).render(job_in(tmp_path, script_for(fake)))
    assert caught.value.retryable is True


# refusals and faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prepare", "status", "reason"),
    [
        (lambda f: setattr(f, "credits", 0), 402, "out of credits: Your project has run out"),
        (lambda f: setattr(f, "api_key", "another-key"), 401, "API key was refused"),
    ],
)
def test_refusals_fail_at_once_with_the_reason(
    fake: FakeCreatomate, tmp_path: Path, prepare: Any, status: int, reason: str
) -> None:
    prepare(fake)
    with pytest.raises(RendererError) as caught:
        engine_for(fake).render(job_in(tmp_path, script_for(fake)))
    assert caught.value.retryable is False
    assert f"HTTP {status}" in str(caught.value)
    assert reason in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert len(fake.server.hits("/v2/renders")) == 1


def test_a_request_creatomate_cannot_read_fails_at_once(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    engine = engine_for(fake)
    with pytest.raises(RendererError, match="HTTP 400: the render request was refused") as caught:
        engine.client.create({"template_id": "nope"})
    assert caught.value.retryable is False


def test_a_rate_limit_is_waited_out_as_creatomate_asks(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    fake.fail_creates(rate_limited(3, body=b'{"hint": "Too many requests."}'))
    sleeps = Sleeps()
    engine_for(fake, http_sleep=sleeps).render(job_in(tmp_path, script_for(fake), snapshot=False))
    assert len(fake.server.hits("/v2/renders")) == 2
    assert len(fake.renders) == 1
    assert sleeps
    assert sleeps[0] >= 3


def test_a_long_retry_after_is_left_to_the_runs_retry(fake: FakeCreatomate, tmp_path: Path) -> None:
    fake.fail_creates(rate_limited(60, body=b'{"hint": "Too many requests."}'))
    with pytest.raises(RendererError, match="HTTP 429: rate limited") as caught:
        engine_for(fake).render(job_in(tmp_path, script_for(fake)))
    assert caught.value.retryable is True
    assert caught.value.retry_after == 60
    assert len(fake.server.hits("/v2/renders")) == 1


@pytest.mark.parametrize(
    ("create_faults", "poll_faults"),
    [
        ([unavailable(503)], []),
        ([reset()], []),
        ([stall(1.0)], []),
        ([], [malformed_json()]),
        ([], [unavailable(502), reset()]),
    ],
)
def test_passing_faults_are_retried(
    fake: FakeCreatomate,
    tmp_path: Path,
    create_faults: list[Reply],
    poll_faults: list[Reply],
) -> None:
    fake.fail_creates(*create_faults)
    fake.fail_polls(*poll_faults)
    stats = engine_for(fake, http_timeout=0.5).render(
        job_in(tmp_path, script_for(fake), snapshot=False)
    )
    assert stats.size_bytes > 0
    assert len(fake.server.hits("/v2/renders")) == 1 + len(create_faults)
    assert len(fake.renders) == 1


def test_faults_that_outlast_the_retries_fail_the_call_as_retryable(
    fake: FakeCreatomate, tmp_path: Path
) -> None:
    fake.fail_creates(unavailable(503), unavailable(503), unavailable(503))
    with pytest.raises(RendererError, match="HTTP 503") as caught:
        engine_for(fake).render(job_in(tmp_path, script_for(fake)))
    assert caught.value.retryable is True
    assert len(fake.server.hits("/v2/renders")) == 3
    assert fake.renders == {}


def test_the_download_goes_through_the_fetch_guard(
    fake: FakeCreatomate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTOCLIP_FETCH_ALLOW_HOSTS")
    with pytest.raises(RendererError, match="address not allowed") as caught:
        engine_for(fake).render(job_in(tmp_path, script_for(fake)))
    assert caught.value.retryable is False
    assert fake.downloads == 0


# what it costs, and what is not paid twice --------------------------------------------------


def test_credits_follow_creatomates_formula() -> None:
    def script(transcript: bool) -> RenderScript:
        text: dict[str, Any] = {"type": "text", "text": "x"}
        if transcript:
            text["transcript_source"] = "voice"
        return parse_render_script(
            {"width": 1280, "height": 720, "frame_rate": 25, "elements": [text]}
        )

    # The docs' example: 720p at 25 fps for 10 s is 230 million pixels, 2.3 credits.
    assert render_credits(script(False), 10) == pytest.approx(2.304)
    assert render_credits(script(False), 1) == 1.0  # at least one credit
    small = parse_render_script(
        {"width": 180, "height": 320, "frame_rate": 15, "elements": [{"type": "text"}]}
    )
    assert render_credits(small, 60) == 1.0
    # Subtitles cost 10 credits a minute where that is more than the render.
    transcribed = small.model_copy(
        update={"elements": [small.elements[0].model_copy(update={"transcript_source": "v"})]}
    )
    assert render_credits(transcribed, 60) == 10.0


def test_a_render_is_counted_once_and_a_retry_picks_up_the_one_paid_for(
    fake: FakeCreatomate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AnswerCache(tmp_path / "cache")
    script = script_for(fake)
    monkeypatch.delenv("AUTOCLIP_FETCH_ALLOW_HOSTS")
    with recording_usage(None, None) as first, pytest.raises(RendererError):
        engine_for(fake, cache=cache).render(job_in(tmp_path, script))
    assert len(fake.renders) == 1
    (paid,) = first.usages  # rendered, so paid, though the download was refused
    assert paid.units == {"credits": 1.0}

    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    with recording_usage(None, None) as second:
        engine_for(fake, cache=cache).render(job_in(tmp_path, script))
    assert len(fake.renders) == 1
    assert len(fake.server.hits("/v2/renders")) == 1
    assert second.usages == []
    assert second.cache_hits == {"creatomate": 1}

    # A changed script is another render, paid and counted.
    longer = script.model_copy(update={"duration": 3})
    with recording_usage(None, None) as third:
        engine_for(fake, cache=cache).render(job_in(tmp_path, longer))
    assert len(fake.renders) == 2
    (usage,) = third.usages
    assert (usage.provider, usage.model) == ("creatomate", "render")
    assert usage.units == {"credits": 1.0}
    assert usage.cost_usd > 0


def test_a_failed_render_is_not_picked_up_again(fake: FakeCreatomate, tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "cache")
    script = script_for(fake)
    gone = fake.server.url("/media/later.png")
    late = script.model_copy(
        update={"elements": [script.elements[0].model_copy(update={"source": gone})]}
    )
    with pytest.raises(RendererError, match="could not be loaded"):
        engine_for(fake, cache=cache).render(job_in(tmp_path, late))
    fake.server.route("/media/later.png", Reply(body=b"png"))
    engine_for(fake, cache=cache).render(job_in(tmp_path, late))
    assert len(fake.renders) == 2


# the resource ------------------------------------------------------------------------------


def test_the_resource_renders_with_its_key_and_origin(fake: FakeCreatomate, tmp_path: Path) -> None:
    renderer = CreatomateRenderer(
        api_key=API_KEY,
        base_url=fake.base_url,
        cache_dir=str(tmp_path / "cache"),
        poll_interval_s=0.01,
    )
    stats = renderer.render(script_for(fake), tmp_path / "v.mp4", media_dir=tmp_path)
    assert stats.size_bytes == (tmp_path / "v.mp4").stat().st_size
    assert len(fake.renders) == 1
    assert list((tmp_path / "cache" / "creatomate").rglob("*.json"))


def test_the_resource_refuses_local_media_for_good(fake: FakeCreatomate, tmp_path: Path) -> None:
    renderer = CreatomateRenderer(
        api_key=API_KEY, base_url=fake.base_url, cache_dir=str(tmp_path / "cache")
    )
    script = parse_render_script(
        {"width": 64, "height": 64, "elements": [{"type": "image", "source": "scene.png"}]}
    )
    with pytest.raises(RendererError, match="needs http") as caught:
        renderer.render(script, tmp_path / "v.mp4", media_dir=tmp_path)
    assert caught.value.retryable is False


def test_the_registry_builds_it_from_settings_with_the_key_from_the_environment(
    fake: FakeCreatomate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREATOMATE_API_KEY", API_KEY)
    monkeypatch.setenv("AUTOCLIP_CREATOMATE_BASE_URL", fake.base_url)
    settings = Settings(
        data_dir=tmp_path, renderer_provider="creatomate", storage_provider="s3", s3_bucket="m"
    )
    renderer = provider("renderer", settings).chosen(None)
    assert isinstance(renderer, CreatomateRenderer)
    assert renderer.base_url == fake.base_url
    script = script_for(fake)

    @dg.asset
    def video(renderer: RendererResource) -> int:
        stats = renderer.render(script, tmp_path / "v.mp4", media_dir=tmp_path)
        return stats.size_bytes

    # Rebuilt, not model_copy'd: Dagster builds a resource that nests another (its storage)
    # from the fields it was constructed with.
    fields = {name: getattr(renderer, name) for name in type(renderer).model_fields}
    renderer = CreatomateRenderer(**fields | {"poll_interval_s": 0.01})
    result = dg.materialize([video], resources={"renderer": renderer})
    assert result.success
    assert result.output_for_node("video") == (tmp_path / "v.mp4").stat().st_size
    # The resource holds the variable's name (what Dagster shows), and no event shows the key.
    assert isinstance(provider("renderer", settings).chosen(None).api_key, dg.EnvVar)
    assert API_KEY not in " ".join(str(event) for event in result.all_events)


def test_it_is_not_chosen_without_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREATOMATE_API_KEY", raising=False)
    settings = Settings(
        data_dir=tmp_path, renderer_provider="creatomate", storage_provider="s3", s3_bucket="m"
    )
    with pytest.raises(ProviderConfigError, match="CREATOMATE_API_KEY is not set"):
        provider("renderer", settings)


def test_the_post_render_audit_judges_caption_coverage_only_for_local_renders(
    tmp_path: Path,
) -> None:
    storage = FilesystemStorage(root=str(tmp_path))
    key = storage.put_bytes("video/ab/render.mp4", make_mp4(180, 320, 15, 6.0))
    rendered = RenderedVideo(
        video_key=key,
        thumbnail_key="video/ab/render.jpg",
        duration=6.0,
        width=180,
        height=320,
        fps=15,
        size_bytes=storage.size(key),
        render_seconds=1.0,
        template="shorts",
    )
    cue = CaptionCue(text="Hello", start=0.0, end=1.0)
    segment = NarrationSegment(text="Hello", audio_key="a.wav", start=0, duration=6, cues=[cue])
    narration = Narration(
        language="en", voice="v", audio_key="a.wav", duration=6.0, segments=[segment]
    )
    assert not CreatomateRenderer.renders_locally
    assert FFmpegRenderer.renders_locally

    local, local_metadata = audit_video(rendered, narration, storage, local_render=True)
    assert [f.detail for f in local] == ["captions cover 17% of the narration"]
    assert local_metadata["caption_coverage"] == 0.17

    remote, remote_metadata = audit_video(rendered, narration, storage, local_render=False)
    assert remote == []  # the probe's checks (streams, size, duration, loudness) all pass
    assert remote_metadata["caption_coverage"] == "not judged: rendered remotely"
    assert remote_metadata["probed_resolution"] == "180x320"
