"""Provider selection: the one place that maps settings (env vars) to resource instances.

Called when definitions load, never at import time. Each capability has a table of its
providers; a name the table lacks is refused here, naming the ones it has. ``tts`` and
``visuals`` take an ordered chain of names (``CHAINS``): the first provider that answers wins.
``publisher`` takes the platforms to publish on (``ROUTERS``): each channel goes to its
platform's publisher, the local one always there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import SecretStr

from autoclip_core.crypto import channel_token_key, local_key_path
from autoclip_core.db.quota import QuotaPolicy, api_project
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase
from resources.llm.local import LocalLLM
from resources.publisher.accounts import ChannelAccounts
from resources.publisher.local import LocalChannelPublisher
from resources.publisher.router import PlatformRouter
from resources.renderer.choice import RendererChoice
from resources.renderer.ffmpeg import FFmpegRenderer
from resources.storage.filesystem import FilesystemStorage
from resources.tts.chain import TTSChain
from resources.tts.espeak import EspeakTTS
from resources.vendors.chain import linked
from resources.visuals.chain import VisualsChain
from resources.visuals.local import LocalVisuals

if TYPE_CHECKING:
    from resources.renderer.creatomate import CreatomateRenderer

Factory = Callable[[Settings], dg.ConfigurableResource]

# An outside provider's module, and the SDK it brings (google-genai, elevenlabs, boto3 and
# dagster-aws…), is imported by its factory, only when settings choose it: every Dagster run
# starts a process that loads these definitions before its first step.


def gemini_llm(s: Settings) -> dg.ConfigurableResource:
    from resources.llm.gemini import GeminiLLM

    return GeminiLLM(
        **vendor_config(s, "gemini"),
        analysis_model=s.gemini_analysis_model,
        script_model=s.gemini_script_model,
    )


def elevenlabs_tts(s: Settings) -> dg.ConfigurableResource:
    from resources.tts.elevenlabs import ElevenLabsTTS

    return ElevenLabsTTS(**vendor_config(s, "elevenlabs"))


def openai_tts(s: Settings) -> dg.ConfigurableResource:
    from resources.tts.openai import OpenAITTS

    return OpenAITTS(**vendor_config(s, "openai"))


def google_tts(s: Settings) -> dg.ConfigurableResource:
    from resources.tts.google import GoogleTTS

    return GoogleTTS(**vendor_config(s, "google_tts"))


def pexels_visuals(s: Settings) -> dg.ConfigurableResource:
    from resources.visuals.pexels import PexelsVisuals

    return PexelsVisuals(**vendor_config(s, "pexels"), media=s.stock_media)


def pixabay_visuals(s: Settings) -> dg.ConfigurableResource:
    from resources.visuals.pixabay import PixabayVisuals

    return PixabayVisuals(**vendor_config(s, "pixabay"), media=s.stock_media)


def openai_images_visuals(s: Settings) -> dg.ConfigurableResource:
    from resources.visuals.openai_images import OpenAIImagesVisuals

    return OpenAIImagesVisuals(**vendor_config(s, "openai"))


def youtube_publisher(s: Settings) -> dg.ConfigurableResource:
    from resources.publisher.youtube import YouTubePublisher

    return YouTubePublisher(
        base_url=s.youtube_base_url,
        oauth_base_url=s.google_oauth_base_url,
        client_id=required(s, "youtube_client_id"),
        client_secret=required(s, "youtube_client_secret"),
    )


def tiktok_publisher(s: Settings) -> dg.ConfigurableResource:
    from resources.publisher.tiktok import TikTokPublisher

    return TikTokPublisher(
        base_url=s.tiktok_base_url,
        client_key=required(s, "tiktok_client_key"),
        client_secret=required(s, "tiktok_client_secret"),
    )


def s3_storage(s: Settings) -> dg.ConfigurableResource:
    from resources.storage.s3 import S3Storage

    return S3Storage.from_settings(s)


PROVIDERS: dict[str, dict[str, Factory]] = {
    "llm": {
        "local": lambda s: LocalLLM(),
        "gemini": gemini_llm,
    },
    "tts": {
        "espeak": lambda s: EspeakTTS(),
        "elevenlabs": elevenlabs_tts,
        "openai": openai_tts,
        "google": google_tts,
    },
    "visuals": {
        "local": lambda s: LocalVisuals(
            library_dir=str(s.media_library_dir) if s.media_library_dir else None
        ),
        "pexels": pexels_visuals,
        "pixabay": pixabay_visuals,
        "openai-images": openai_images_visuals,
    },
    "renderer": {
        "ffmpeg": lambda s: renderers(s, "ffmpeg"),
        "creatomate": lambda s: renderers(s, "creatomate"),
    },
    "publisher": {
        "local": lambda s: LocalChannelPublisher(root=str(s.root / "channels")),
        "youtube": youtube_publisher,
        "tiktok": tiktok_publisher,
    },
    "storage": {
        "filesystem": lambda s: FilesystemStorage(root=str(s.media_dir)),
        "s3": s3_storage,
    },
}

CHAINS: dict[str, Callable[[list[tuple[str, Any]]], dg.ConfigurableResource]] = {
    "tts": TTSChain.of,
    "visuals": VisualsChain.of,
}
ROUTERS: dict[str, Callable[[dict[str, Any]], dg.ConfigurableResource]] = {
    "publisher": lambda built: PlatformRouter(**built),
}

# settings field prefix -> the environment variable of its key
KEY_ENV = {
    "gemini": "GEMINI_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
    "openai": "OPENAI_API_KEY",
    "google_tts": "GOOGLE_TTS_API_KEY",
    "pexels": "PEXELS_API_KEY",
    "pixabay": "PIXABAY_API_KEY",
    "creatomate": "CREATOMATE_API_KEY",
}


class ProviderConfigError(ValueError):
    """The settings name a provider that does not exist, or one without its key."""


def vendor_config(settings: Settings, account: str) -> dict[str, Any]:
    """The ``VendorResource`` fields of a paid provider on ``account`` (``gemini``, ``openai``,
    ``google_tts``…): origin, key, timeout, cache folder, rate limits.

    The key goes in as ``dg.EnvVar`` when it comes from the environment, so Dagster shows
    the variable's name, never its value; a key set on the settings object itself (tests)
    goes in as is.
    """
    env = KEY_ENV[account]
    secret = getattr(settings, f"{account}_api_key")
    if secret is None:
        raise ProviderConfigError(f"{env} is not set, but a provider that needs it is chosen")
    key: Any = dg.EnvVar(env) if os.environ.get(env) else secret.get_secret_value()
    return {
        "base_url": getattr(settings, f"{account}_base_url"),
        "api_key": key,
        "cache_dir": str(settings.root / "vendor-cache"),
        "timeout_s": settings.vendor_timeout_seconds,
        "requests_per_minute": dict(settings.vendor_requests_per_minute),
        "redis_url": settings.redis_url,
    }


def required(settings: Settings, field: str) -> Any:
    """A setting a chosen provider needs: ``dg.EnvVar`` when it comes from the environment
    (Dagster shows the name, never the value), else its value; refused when unset."""
    env = f"AUTOCLIP_{field.upper()}"
    value = getattr(settings, field)
    if value is None:
        raise ProviderConfigError(f"{env} is not set, but a provider that needs it is chosen")
    if os.environ.get(env):
        return dg.EnvVar(env)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def optional(settings: Settings, field: str) -> Any:
    return None if getattr(settings, field) is None else required(settings, field)


def channel_accounts(settings: Settings) -> ChannelAccounts:
    """Where the publication step finds each channel's account, tokens and quota."""
    key: dict[str, Any] = {}
    if os.environ.get("AUTOCLIP_CHANNEL_TOKEN_KEY"):
        key["token_key"] = dg.EnvVar("AUTOCLIP_CHANNEL_TOKEN_KEY")
    elif settings.channel_token_key is not None:
        key["token_key"] = settings.channel_token_key.get_secret_value()
    else:  # the generated local key (refused in prod), read from its file when used
        channel_token_key(settings)
        key["token_key_file"] = str(local_key_path(settings))
    policy = QuotaPolicy.from_settings(settings)
    return ChannelAccounts(
        **key,
        youtube_api_project=api_project(settings),
        youtube_refresh_token=optional(settings, "youtube_refresh_token"),
        tiktok_refresh_token=optional(settings, "tiktok_refresh_token"),
        quota_model=policy.model,
        daily_units=policy.daily_units,
        daily_uploads=policy.daily_uploads,
        unit_costs=dict(policy.costs),
    )


def creatomate_renderer(settings: Settings) -> CreatomateRenderer:
    """Creatomate, fetching the pipeline's media by presigned URLs of the storage: refused
    here, before any run, when the storage has no URLs to give."""
    from resources.renderer.creatomate import CreatomateRenderer

    if settings.storage_provider == "filesystem":
        raise ProviderConfigError(
            "Creatomate fetches every media file by URL and filesystem storage has none to "
            "give: set AUTOCLIP_STORAGE_PROVIDER=s3 or render with AUTOCLIP_RENDERER_PROVIDER="
            "ffmpeg"
        )
    secret = settings.creatomate_webhook_secret
    webhook_secret: Any = None
    if secret is not None:
        env = "AUTOCLIP_CREATOMATE_WEBHOOK_SECRET"
        webhook_secret = dg.EnvVar(env) if os.environ.get(env) else secret.get_secret_value()
    return CreatomateRenderer(
        **vendor_config(settings, "creatomate"),
        storage=provider("storage", settings),
        webhook_url=settings.creatomate_webhook_url,
        webhook_secret=webhook_secret,
    )


def renderers(settings: Settings, default: str) -> dg.ConfigurableResource:
    """The default renderer, and the ones a project's template may choose instead (its
    ``renderer``): ffmpeg always, Creatomate when its key is set and storage gives URLs."""
    ready = [(default, RENDERERS[default](settings))]
    for name, build in RENDERERS.items():
        usable = name == "ffmpeg" or (
            settings.creatomate_api_key is not None and settings.storage_provider != "filesystem"
        )
        if name != default and usable:
            ready.append((name, build(settings)))
    renderer: dg.ConfigurableResource = linked(RendererChoice, ready)
    return renderer


RENDERERS: dict[str, Factory] = {
    "ffmpeg": FFmpegRenderer.from_settings,
    "creatomate": creatomate_renderer,
}


def provider(capability: str, settings: Settings) -> dg.ConfigurableResource:
    """The resource for ``capability``: its one provider, or the chain of those named."""
    names = settings.provider_chain(capability)
    table = PROVIDERS[capability]
    variable = f"AUTOCLIP_{capability.upper()}_PROVIDER"
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ProviderConfigError(
            f"{variable}: no {capability} provider {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(sorted(table))}"
        )
    if len(set(names)) != len(names):
        raise ProviderConfigError(f"{variable}: a provider is named twice in {names}")
    if capability in ROUTERS:
        names = list(dict.fromkeys(["local", *names]))
        return ROUTERS[capability]({name: table[name](settings) for name in names})
    if len(names) > 1 and capability not in CHAINS:
        raise ProviderConfigError(f"{variable}: {capability} takes one provider, got {names}")
    built = [(name, table[name](settings)) for name in names]
    if len(built) == 1:
        return built[0][1]
    return CHAINS[capability](built)


def build_resources(settings: Settings) -> dict[str, Any]:
    resources: dict[str, Any] = {
        capability: provider(capability, settings) for capability in PROVIDERS
    }
    resources["app_db"] = AppDatabase(
        url=settings.app_database_url,
        document_store=settings.document_store,
        mongodb_url=optional(settings, "mongodb_url"),
        redis_url=optional(settings, "redis_url"),
    )
    resources["accounts"] = channel_accounts(settings)
    resources["io_manager"] = dg.FilesystemIOManager(base_dir=str(settings.root / "io"))
    return resources
