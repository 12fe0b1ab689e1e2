"""One settings object for the whole product (env prefix ``AUTOCLIP_``).

Read when definitions load or the API starts — never at import time.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "prod"]

# Values that must never sign tokens outside local mode.
PLACEHOLDER_SECRETS = frozenset(
    {"changethis", "changeme", "change-me", "change_me", "secret", "jwt-secret", "placeholder"}
)
MIN_SECRET_LENGTH = 32
PROVIDER_CHAIN = r"^\s*[a-z0-9-]+\s*(,\s*[a-z0-9-]+\s*)*$"
# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_ARGON2_MIN = {"password_hash_memory_kib": 19 * 1024, "password_hash_time_cost": 2}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTOCLIP_", extra="ignore", populate_by_name=True
    )

    env: Environment = "local"
    data_dir: Path = Field(default=Path("data"), description="Root of all local state.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the app database; SQLite under data_dir if unset.",
    )
    redis_url: str | None = Field(default=None, description="Redis for cache/rate limits.")
    media_library_dir: Path | None = Field(
        default=None, description="Folder of the user's own images, matched to scenes by keywords."
    )
    # Providers: a name, or for tts and visuals an ordered fallback chain "a,b,c". Which names
    # exist is resources/registry.py's PROVIDERS table, checked when definitions load.
    llm_provider: str = Field(default="local", pattern=PROVIDER_CHAIN, description="local|gemini")
    tts_provider: str = Field(
        default="espeak",
        pattern=PROVIDER_CHAIN,
        description="Ordered chain, e.g. elevenlabs,openai,google,espeak.",
    )
    visuals_provider: str = Field(
        default="local",
        pattern=PROVIDER_CHAIN,
        description="Ordered chain, e.g. pexels,pixabay,openai-images,local.",
    )
    stock_media: Literal["photo", "video", "auto"] = Field(
        default="photo",
        description="What the stock vendors (pexels, pixabay) give a scene: photo, a video "
        "clip (video), or a clip when one fits and a photo otherwise (auto).",
    )
    renderer_provider: str = Field(
        default="ffmpeg", pattern=PROVIDER_CHAIN, description="ffmpeg|creatomate"
    )
    publisher_provider: str = Field(
        default="local",
        pattern=PROVIDER_CHAIN,
        description="Publishers by platform, e.g. youtube,tiktok (local is always there).",
    )
    storage_provider: Literal["filesystem", "s3"] = Field(
        default="filesystem", description="filesystem (under data_dir/media) or s3."
    )
    s3_bucket: str | None = Field(default=None, description="The media bucket (storage s3).")
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Origin of an S3-compatible store (MinIO, R2…); unset: AWS. Region and "
        "credentials come from the usual AWS environment (AWS_REGION, AWS_ACCESS_KEY_ID…).",
    )
    s3_presign_seconds: int = Field(
        default=3600, ge=1, le=7 * 24 * 3600, description="Lifetime of presigned media URLs."
    )
    document_store: Literal["table", "mongodb"] = Field(
        default="table",
        description="Where raw AI outputs and events go: a JSON table in the app database, "
        "or MongoDB (mongodb_url).",
    )
    mongodb_url: SecretStr | None = Field(
        default=None, description="mongodb://… of the document store; the path names the "
        "database (autoclip when it names none).",
    )
    feeds: str = Field(
        default="", description="Comma-separated feed paths/URLs the feed sensor watches."
    )
    sources_file: Path | None = Field(
        default=None,
        description="JSON/YAML file of projects and their sources (autoclip_core.ingest.config).",
    )
    render_threads: int = Field(
        default=3, ge=1, le=16, description="Pinned x264 frame threads (x264's pick for 2 cores)."
    )
    default_project: str = Field(default="demo", description="Project slug used by the demo.")

    # Vendors: keys under the vendors' usual names (never logged or serialised), origins as
    # the vendor documents them (the client adds the version path), request rates ---------
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias="GEMINI_API_KEY")
    elevenlabs_api_key: SecretStr | None = Field(
        default=None, validation_alias="ELEVENLABS_API_KEY"
    )
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    google_tts_api_key: SecretStr | None = Field(
        default=None, validation_alias="GOOGLE_TTS_API_KEY"
    )
    pexels_api_key: SecretStr | None = Field(default=None, validation_alias="PEXELS_API_KEY")
    pixabay_api_key: SecretStr | None = Field(default=None, validation_alias="PIXABAY_API_KEY")
    creatomate_api_key: SecretStr | None = Field(
        default=None, validation_alias="CREATOMATE_API_KEY"
    )
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    openai_base_url: str = "https://api.openai.com"
    google_tts_base_url: str = "https://texttospeech.googleapis.com"
    pexels_base_url: str = "https://api.pexels.com"
    pixabay_base_url: str = "https://pixabay.com"
    creatomate_base_url: str = "https://api.creatomate.com"
    creatomate_webhook_url: str | None = Field(
        default=None,
        description="Public URL of this API's /api/v1/webhooks/creatomate route: renders "
        "report there when they finish instead of being polled (with the secret).",
    )
    creatomate_webhook_secret: SecretStr | None = Field(
        default=None, description="Keys each render's webhook address (HMAC-SHA256)."
    )
    google_oauth_base_url: str = Field(
        default="https://oauth2.googleapis.com",
        description="The origin whose /token is Google's OAuth token endpoint.",
    )
    youtube_base_url: str = Field(
        default="https://www.googleapis.com",
        description="The origin serving /youtube/v3/... and /upload/youtube/v3/...",
    )
    tiktok_base_url: str = Field(
        default="https://open.tiktokapis.com", description="The origin serving /v2/..."
    )
    gemini_analysis_model: str = Field(
        default="gemini-2.5-flash-lite", description="Cheap tier: analysis and the safety judge."
    )
    gemini_script_model: str = Field(default="gemini-2.5-flash", description="Quality tier.")
    gemini_batch: bool = Field(
        default=False,
        description="The daily batch asks Gemini's Batch API (half the price, answers within "
        "hours) for its items' analyses, verdicts and scripts before their runs.",
    )
    vendor_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Per HTTP request to a vendor."
    )
    vendor_requests_per_minute: dict[str, float] = Field(
        default_factory=dict,
        description='JSON, e.g. {"gemini": 60, "elevenlabs": 100}: overrides the documented '
        "limits in resources/vendors/ratelimit.py (0: no limit).",
    )
    pool_limits: dict[str, PositiveInt] = Field(
        default_factory=dict,
        description='JSON, e.g. {"elevenlabs": 5, "gemini": 8}: steps holding a Dagster pool '
        "(a vendor's, autoclip_assets/pools.py) at once across all runs, over its default; "
        "set on the instance when `autoclip dev`, `autoclip demo` or `autoclip pools` start.",
    )
    elevenlabs_plan: Literal["free", "starter", "creator", "pro", "scale", "business"] = Field(
        default="free",
        description="The ElevenLabs subscription: its concurrent requests are the elevenlabs "
        "pool's default limit.",
    )

    # Publishing platforms: the OAuth app (connect flow and refresh) and, for headless use
    # (CI, make demo), one channel per platform configured by its refresh token ----------
    youtube_client_id: str | None = None
    youtube_client_secret: SecretStr | None = None
    youtube_refresh_token: SecretStr | None = Field(
        default=None,
        description="With the client id and secret: a headless YouTube channel (`youtube`).",
    )
    tiktok_client_key: str | None = None
    tiktok_client_secret: SecretStr | None = None
    tiktok_refresh_token: SecretStr | None = Field(
        default=None,
        description="With the client key and secret: a headless TikTok channel (`tiktok`); "
        "the refresh token TikTok rotates is stored and used from then on.",
    )
    youtube_quota_model: Literal["units", "upload_bucket"] = Field(
        default="upload_bucket",
        description="units: every call, uploads included, counts against the daily units; "
        "upload_bucket (Google's June 2026 revision): uploads count against a daily bucket "
        "of their own beside the units of everything else.",
    )
    youtube_daily_units: int = Field(default=10_000, ge=0, description="Units per Pacific day.")
    youtube_daily_uploads: int = Field(
        default=100, ge=0, description="videos.insert per Pacific day (upload_bucket model)."
    )
    youtube_unit_costs: dict[str, int] = Field(
        default_factory=dict,
        description='JSON, e.g. {"videos.insert": 1600}: overrides the unit costs in '
        "autoclip_core/db/quota.py.",
    )

    # API (autoclip_api) ------------------------------------------------------------------
    api_host: str = Field(default="127.0.0.1", description="Interface `make api` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of `make api`.")
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key of access/refresh tokens. Required outside local mode; "
        "local mode generates one under data_dir/secrets.",
    )
    channel_token_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: the AES-GCM key of channels' OAuth tokens. "
        "Required in prod; local and test mode generate one under data_dir/secrets.",
    )
    preview_concurrency: int = Field(
        default=1, ge=1, le=8, description="Template previews rendered at once per API process."
    )
    jwt_issuer: str = "autoclip"
    jwt_audience: str = "autoclip-api"
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed by CORS (none: closed)."
    )
    password_hash_time_cost: int = Field(default=3, ge=1, description="argon2id t.")
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=8, description="argon2id m.")
    password_hash_parallelism: int = Field(default=4, ge=1, description="argon2id p.")
    api_rate_limit_per_minute: int = Field(
        default=1200, ge=1, description="Requests per user per minute over the whole API."
    )
    auth_rate_limit_per_minute: int = Field(
        default=60, ge=1, description="Register/login/refresh/OAuth calls per IP per minute."
    )
    register_rate_limit_per_hour: int = Field(
        default=20, ge=1, description="Sign-ups per client address per hour."
    )
    refresh_reuse_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="A refresh token used again this soon after its rotation (two tabs at once) "
        "gets the same new pair; later reuse revokes the session.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IPs/CIDRs of the reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto `serve` believes (none: the peer address is the client).",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Interface of the Prometheus metrics listener."
    )
    metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        description="Port of the metrics listener `serve` starts, never the API's (0: none).",
    )
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_authorization_endpoint: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_endpoint: str = "https://oauth2.googleapis.com/token"
    google_issuer: str = "https://accounts.google.com"
    oauth_redirect_uris: str = Field(
        default="", description="Comma-separated redirect URIs the OAuth flow may return to."
    )
    # e-mail (autoclip_api/email) ---------------------------------------------------------
    app_url: str = Field(
        default="http://127.0.0.1:5173",
        description="Base URL of the web app: the links in e-mails point there.",
    )
    mail_from: str = Field(
        default="AutoClip <no-reply@autoclip.invalid>", description="From: of every e-mail."
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://[user[:password]@]host[:port] (STARTTLS), smtps://... (TLS) or, "
        "outside prod, smtp+plain://... Unset (with no smtp_host): e-mails go to the log sink "
        "under data_dir/mail.",
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "plain"] = Field(
        default="starttls", description="plain (no encryption) is refused in prod."
    )
    email_provider: Literal["log", "smtp", "sendgrid"] | None = Field(
        default=None,
        description="Who sends e-mails; unset: smtp when an SMTP server is configured, else log.",
    )
    sendgrid_api_key: SecretStr | None = Field(default=None, validation_alias="SENDGRID_API_KEY")
    sendgrid_base_url: str = Field(
        default="https://api.sendgrid.com", description="The origin serving /v3/mail/send."
    )
    # Dagster, as the API drives it (autoclip_api/dagster) ------------------------------------
    dagster_port: int = Field(
        default=3000, ge=1, le=65535, description="Port of the Dagster webserver `make dev` starts."
    )
    dagster_graphql_url: str = Field(
        default="http://127.0.0.1:3000/graphql",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?/graphql$",
        description="The Dagster webserver's GraphQL endpoint the API submits runs to.",
    )
    dagster_location: str = Field(
        default="autoclip", description="The code location of the pipeline (workspace.yaml)."
    )
    dagster_postgres_url: str | None = Field(
        default=None,
        description="`make dev`'s Dagster instance's run, event and schedule storage: a "
        "postgresql+psycopg2:// URL (SQLite files in the instance folder if unset).",
    )
    dagster_url: str | None = Field(
        default=None,
        description="Base URL of the Dagster UI for links to runs; unset: the GraphQL URL's.",
    )
    dagster_submit_interval_seconds: float = Field(
        default=3.0,
        ge=0,
        description="How often each API process submits requested runs that have not reached "
        "Dagster yet (0: only when a request is made).",
    )

    @field_validator("jwt_secret")
    @classmethod
    def _refuse_placeholder_secret(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None or info.data.get("env", "local") == "local":
            return value
        raw = value.get_secret_value()
        if raw.strip().lower() in PLACEHOLDER_SECRETS or len(raw) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"AUTOCLIP_JWT_SECRET is a placeholder or shorter than {MIN_SECRET_LENGTH} "
                "characters; set a random secret (e.g. `openssl rand -base64 48`)"
            )
        return value

    @field_validator("password_hash_memory_kib", "password_hash_time_cost")
    @classmethod
    def _argon2_at_least_owasp(cls, value: int, info: ValidationInfo) -> int:
        minimum = OWASP_ARGON2_MIN[info.field_name or ""]
        if value < minimum and info.data.get("env", "local") != "test":
            raise ValueError(f"{info.field_name} below the OWASP minimum ({minimum})")
        return value

    @field_validator("google_authorization_endpoint", "google_token_endpoint")
    @classmethod
    def _oauth_endpoints_use_tls(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("env", "local") == "prod" and not value.startswith("https://"):
            raise ValueError(f"{info.field_name} must be an https:// URL in prod")
        return value

    @field_validator(
        "gemini_base_url",
        "elevenlabs_base_url",
        "openai_base_url",
        "google_tts_base_url",
        "pexels_base_url",
        "pixabay_base_url",
        "creatomate_base_url",
        "google_oauth_base_url",
        "youtube_base_url",
        "tiktok_base_url",
        "sendgrid_base_url",
    )
    @classmethod
    def _vendor_origin(cls, value: str, info: ValidationInfo) -> str:
        value = value.rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{info.field_name} must be an http(s):// origin, got {value!r}")
        if info.data.get("env", "local") == "prod" and not value.startswith("https://"):
            raise ValueError(f"{info.field_name} must be an https:// URL in prod")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in _split(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR range") from None
        return value

    def provider_chain(self, capability: str) -> list[str]:
        """The provider names chosen for ``capability`` (``llm``, ``tts``…), in order."""
        return _split(getattr(self, f"{capability}_provider"))

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _split(self.trusted_proxies)

    @property
    def feed_list(self) -> list[str]:
        return [f.strip() for f in self.feeds.split(",") if f.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def oauth_redirect_uri_list(self) -> list[str]:
        return [u.strip() for u in self.oauth_redirect_uris.split(",") if u.strip()]

    @cached_property
    def root(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def app_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.root / 'autoclip.db'}"

    @property
    def dagster_ui_url(self) -> str:
        base = self.dagster_url or self.dagster_graphql_url.removesuffix("/graphql")
        return base.rstrip("/")

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def get_settings() -> Settings:
    return Settings()
