"""Creatomate for pipeline items: media named by storage key and posted as fresh URLs of the
storage, the webhook that ends the wait (polling as the fallback), the route's checks, and
the refusal of filesystem storage when definitions load."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from autoclip_api.core.errors import BadRequest, NotFound, Unauthorized
from autoclip_api.webhooks.service import read_report, record
from autoclip_assets.definitions import build_definitions
from autoclip_core.creatomate_webhook import callback_key, token, webhook_address
from autoclip_core.render.renderscript import RenderScript, parse_render_script
from autoclip_core.settings import Settings
from resources.errors import RendererError
from resources.registry import ProviderConfigError, provider
from resources.renderer.choice import RendererChoice
from resources.renderer.creatomate import CreatomateRenderer
from resources.renderer.ffmpeg import FFmpegRenderer
from resources.storage.filesystem import FilesystemStorage
from resources.storage.s3 import S3Storage
from resources.vendors.cache import AnswerCache
from tests.fakes.creatomate import FakeCreatomate
from tests.fakes.server import FakeServer, Reply, Request
from tests.resources.renderer.test_creatomate import engine_for, fake, job_in

__all__ = ["fake"]

SECRET = "webhook-test-secret-0123456789"
WEBHOOK_BASE = "/api/v1/webhooks/creatomate"


class ServedStorage(FilesystemStorage):
    """Files on disk whose presigned URLs a fake server answers (as S3 would), a new
    signature each time."""

    base_url: str
    servers: ClassVar[dict[str, FakeServer]] = {}
    signatures: ClassVar[Iterator[int]] = itertools.count()

    def presigned_url(self, key: str, expires_s: int = 3600) -> str:
        path = f"/bucket/{key}"
        body = self.local_path(key).read_bytes()
        self.servers[self.base_url].route(path, Reply(body=body))
        query = f"X-Amz-Expires={expires_s}&X-Amz-Signature={next(self.signatures)}"
        return f"{self.base_url}{path}?{query}"


@pytest.fixture
def storage(fake: FakeCreatomate, tmp_path: Path) -> ServedStorage:
    ServedStorage.servers[fake.server.base] = fake.server
    served = ServedStorage(root=str(tmp_path / "media"), base_url=fake.server.base)
    served.put_bytes("visuals/ab/scene.png", b"png")
    served.put_bytes("narration/cd/voice.wav", b"wav")
    return served


def stored_script(**changes: object) -> RenderScript:
    data: dict[str, object] = {
        "width": 180,
        "height": 320,
        "frame_rate": 15,
        "duration": 2,
        "elements": [
            {"type": "image", "source": "visuals/ab/scene.png"},
            {"type": "audio", "source": "narration/cd/voice.wav"},
        ],
    }
    return parse_render_script(data | changes)


def settings_for(root: Path, **changes: object) -> Settings:
    fields: dict[str, object] = {"data_dir": root, "creatomate_webhook_secret": SECRET, **changes}
    return Settings(**fields)  # type: ignore[arg-type]


def receiver(server: FakeServer, settings: Settings) -> Callable[[str], str]:
    """A webhook address builder whose addresses a fake server answers with the API route's
    own checks and recording (``autoclip_api.webhooks.service``)."""

    def handle(request: Request) -> Reply:
        given = request.path.rsplit("/", 1)[1]
        try:
            record(read_report(request.body, given, settings), settings)
        except (BadRequest, NotFound, Unauthorized) as exc:
            return Reply(status=exc.status_code, body=exc.detail.encode())
        return Reply(status=204)

    def address(metadata: str) -> str:
        url = webhook_address(server.url(WEBHOOK_BASE), SECRET, metadata)
        server.route(url.removeprefix(server.base), handle)
        return url

    return address


def test_stored_media_is_posted_at_fresh_urls_and_a_retry_picks_up_the_same_render(
    fake: FakeCreatomate, storage: ServedStorage, tmp_path: Path
) -> None:
    cache = AnswerCache(tmp_path / "cache")
    engine = engine_for(fake, cache=cache, media_url=storage.presigned_url)
    engine.render(job_in(tmp_path, stored_script(), snapshot=False))

    [post] = fake.server.hits("/v2/renders")
    sources = [e["source"] for e in json.loads(post.body)["elements"]]
    assert [s.split("?")[0] for s in sources] == [
        fake.server.url("/bucket/visuals/ab/scene.png"),
        fake.server.url("/bucket/narration/cd/voice.wav"),
    ]
    # Creatomate fetched them: the render succeeded.
    assert fake.downloads == 1
    assert len(fake.server.hits("/bucket/visuals/ab/scene.png")) == 1

    # The same script again: new signatures, but the render already paid for is reused.
    engine.render(job_in(tmp_path, stored_script(), snapshot=False))
    assert len(fake.server.hits("/v2/renders")) == 1


def test_a_local_file_is_refused_even_with_storage(
    fake: FakeCreatomate, storage: ServedStorage, tmp_path: Path
) -> None:
    absolute = stored_script(
        elements=[{"type": "image", "source": str(storage.local_path("visuals/ab/scene.png"))}]
    )
    with pytest.raises(RendererError, match="needs http") as caught:
        engine_for(fake, media_url=storage.presigned_url).render(job_in(tmp_path, absolute))
    assert not caught.value.retryable
    assert fake.server.hits("/v2/renders") == []


def test_the_webhook_report_ends_the_wait_with_one_read_instead_of_polling(
    fake: FakeCreatomate, storage: ServedStorage, tmp_path: Path
) -> None:
    fake.polls_per_state = 10_000  # polling alone would never see it finish
    settings = settings_for(tmp_path / "api")
    inbox = FilesystemStorage(root=str(settings.media_dir))
    engine = engine_for(
        fake,
        media_url=storage.presigned_url,
        webhook=receiver(fake.server, settings),
        inbox=lambda render_id: inbox.exists(callback_key(render_id)),
        inbox_interval_s=0.05,
        fallback_poll_s=60.0,
    )
    job = job_in(tmp_path, stored_script(), snapshot=False)
    engine.render(job)

    [post] = fake.server.hits("/v2/renders")
    sent = json.loads(post.body)
    assert sent["webhook_url"] == webhook_address(
        fake.server.url(WEBHOOK_BASE), SECRET, sent["metadata"]
    )
    (render_id,) = fake.renders
    assert fake.webhook_answers == [204]
    assert json.loads(inbox.read_bytes(callback_key(render_id)))["status"] == "succeeded"
    assert len(fake.server.hits(f"/v2/renders/{render_id}")) == 1
    assert job.out_mp4.stat().st_size > 0


def test_a_lost_report_is_made_up_for_by_polling_now_and_then(
    fake: FakeCreatomate, storage: ServedStorage, tmp_path: Path
) -> None:
    fake.drop_webhooks = True
    engine = engine_for(
        fake,
        media_url=storage.presigned_url,
        webhook=lambda metadata: fake.server.url(f"{WEBHOOK_BASE}/{token(SECRET, metadata)}"),
        inbox=lambda render_id: False,
        inbox_interval_s=0.01,
        fallback_poll_s=0.05,
    )
    engine.render(job_in(tmp_path, stored_script(), snapshot=False))
    (render_id,) = fake.renders
    polls = len(fake.server.hits(f"/v2/renders/{render_id}"))
    assert 3 <= polls < 10


def test_the_route_hears_only_a_finished_render_at_its_own_address(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    report = {"id": "3f1c-77", "status": "succeeded", "url": "https://cdn/x.mp4", "metadata": "m1"}
    body = json.dumps(report).encode()
    assert read_report(body, token(SECRET, "m1"), settings).id == "3f1c-77"
    with pytest.raises(Unauthorized):
        read_report(body, token(SECRET, "m2"), settings)
    with pytest.raises(Unauthorized):
        read_report(body, token("another-secret", "m1"), settings)
    with pytest.raises(BadRequest, match="not finished"):
        read_report(
            json.dumps(report | {"status": "rendering"}).encode(), token(SECRET, "m1"), settings
        )
    with pytest.raises(BadRequest, match="not a Creatomate render"):
        read_report(b"{not json", token(SECRET, "m1"), settings)
    with pytest.raises(BadRequest, match="not a Creatomate render"):
        read_report(
            json.dumps(report | {"id": "../../etc"}).encode(), token(SECRET, "m1"), settings
        )
    with pytest.raises(NotFound):
        read_report(
            body, token(SECRET, "m1"), settings_for(tmp_path, creatomate_webhook_secret=None)
        )


# definitions --------------------------------------------------------------------------------


def test_creatomate_with_filesystem_storage_is_refused_when_definitions_load(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        renderer_provider="creatomate",
        creatomate_api_key="k",  # type: ignore[arg-type]
    )
    with pytest.raises(ProviderConfigError, match="filesystem storage has none"):
        build_definitions(settings)


def test_with_s3_storage_creatomate_renders_and_ffmpeg_stays_choosable(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        renderer_provider="creatomate",
        creatomate_api_key="k",
        storage_provider="s3",
        s3_bucket="media",
        creatomate_webhook_url="https://autoclip.example/api/v1/webhooks/creatomate",
    )
    renderer = provider("renderer", settings)
    assert isinstance(renderer, RendererChoice)
    assert renderer.names == ["creatomate", "ffmpeg"]
    default = renderer.chosen(None)
    assert isinstance(default, CreatomateRenderer)
    assert isinstance(default.storage, S3Storage)
    assert default.webhook_url == "https://autoclip.example/api/v1/webhooks/creatomate"
    assert isinstance(renderer.chosen("ffmpeg"), FFmpegRenderer)

    # By default the local engine renders; a template may still choose Creatomate.
    local = provider("renderer", settings.model_copy(update={"renderer_provider": "ffmpeg"}))
    assert isinstance(local, RendererChoice)
    assert isinstance(local.chosen(None), FFmpegRenderer)
    assert isinstance(local.chosen("creatomate"), CreatomateRenderer)


def test_a_template_asking_for_a_renderer_not_set_up_fails_clearly(tmp_path: Path) -> None:
    renderer = provider("renderer", Settings(data_dir=tmp_path))
    assert isinstance(renderer, FFmpegRenderer)
    assert renderer.chosen(None) is renderer
    assert renderer.chosen("ffmpeg") is renderer
    with pytest.raises(
        RendererError, match="asks for the creatomate renderer, which is not set up"
    ):
        renderer.chosen("creatomate")
