"""What a provider raises when it fails: one family, so the assets handle every capability alike.

``retryable`` says whether the same call may succeed later (a timeout, a rate limit, a 5xx);
``retry_after`` is how long the provider asked to wait (an HTTP ``Retry-After``), when it said.
``autoclip_assets.retries.provider_call`` turns these into Dagster retries or failures.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar


class ProviderError(Exception):
    capability: ClassVar[str] = "provider"

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be at least 0, got {retry_after}")
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class LLMError(ProviderError):
    capability = "llm"


class TTSError(ProviderError):
    capability = "tts"


class VisualsError(ProviderError):
    capability = "visuals"


class RendererError(ProviderError):
    capability = "renderer"


class PublishError(ProviderError):
    capability = "publisher"


class StorageError(ProviderError):
    capability = "storage"


class QuotaExhausted(PublishError):
    """The platform's quota or rate limit for this window is used up: the upload waits for
    the next window (``retry_after`` seconds; ``until``, when known, is that moment) instead
    of failing."""

    def __init__(self, message: str, *, retry_after: float, until: datetime | None = None) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)
        self.until = until


class ReconnectRequired(PublishError):
    """The channel's authorisation is gone (``invalid_grant``, revoked access): not retried;
    its uploads wait until someone connects the channel again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)
