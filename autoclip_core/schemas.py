"""Domain models passed between pipeline stages (and returned by the LLM providers).

These are the edges of the pipeline: every asset returns one of them, every provider
consumes/produces them. Pydantic validates at each boundary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "ko"]
TemplateName = Literal["short", "long", "square"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceItem(Frozen):
    """One article/video from a source, normalised."""

    id: str = Field(description="Stable content-item id (the Dagster partition key).")
    project: str
    source: str = Field(description="Feed file path or URL it came from.")
    url: str
    title: str
    text: str = Field(description="Plain text body (HTML stripped).")
    published_at: datetime | None = None
    author: str | None = None
    media_links: list[str] = Field(default_factory=list)
    # Set by ingestion's normalisation (autoclip_core.ingest.normalize); optional so that
    # items stored before it still load.
    language: str | None = Field(default=None, description="Detected language code, e.g. ko.")
    canonical_url: str | None = Field(
        default=None, description="URL with tracking parameters, fragments etc. removed."
    )
    fingerprint: str | None = Field(
        default=None, description="64-bit simhash of the text (16 hex digits), for near-dupes."
    )


class ContentAnalysis(Frozen):
    language: Language
    word_count: int
    sentences: list[str] = Field(description="All sentences of the text, in order.")
    summary: list[str] = Field(
        description="Extractive summary: the most central sentences, in order."
    )
    keywords: list[str]
    topic: str = Field(description="A short topic label.")


class SafetyFinding(Frozen):
    rule: Literal[
        "blocked_term", "pii_email", "pii_phone", "pii_rrn", "profanity", "media", "judge"
    ]
    detail: str
    excerpt: str = ""


class SafetyVerdict(Frozen):
    passed: bool
    findings: list[SafetyFinding] = Field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(f"{f.rule}: {f.detail}" for f in self.findings) or "ok"


class TopicSelection(Frozen):
    selected: bool
    score: float
    reason: str
    template: str = Field(
        default="short", description="A built-in template's name or an organisation's template id."
    )
    channels: list[str] = Field(
        default_factory=lambda: ["local"], description="Publish targets: the channels' slugs."
    )


class Scene(Frozen):
    narration: str = Field(min_length=1, description="What the voice says in this scene.")
    on_screen_text: str = Field(min_length=1, description="Short headline shown on the visual.")
    visual_query: str = Field(description="Keywords to find or generate the visual.")


class Script(Frozen):
    """The script schema: the local writer and any LLM provider must return exactly this."""

    title: str = Field(min_length=1, max_length=100)
    hook: str = Field(min_length=1)
    scenes: list[Scene] = Field(min_length=3, max_length=6)
    call_to_action: str = Field(min_length=1)
    hashtags: list[str] = Field(min_length=1, max_length=10)
    description: str
    language: Language

    def spoken_parts(self) -> list[str]:
        """Narration in speaking order: hook, each scene, call to action."""
        return [self.hook, *(s.narration for s in self.scenes), self.call_to_action]


class CaptionCue(Frozen):
    text: str
    start: float = Field(ge=0, description="Seconds from the start of the video.")
    end: float


class NarrationSegment(Frozen):
    """Speech for one part of the script (hook, a scene, or the call to action)."""

    text: str
    audio_key: str = Field(description="Storage key of a mono WAV file.")
    start: float
    duration: float
    cues: list[CaptionCue]


class Narration(Frozen):
    language: Language
    voice: str
    audio_key: str = Field(description="Storage key of the full narration WAV.")
    duration: float
    segments: list[NarrationSegment]

    @property
    def cues(self) -> list[CaptionCue]:
        return [c for s in self.segments for c in s.cues]


class Credit(Frozen):
    """Who made a scene's picture, under which licence, and where it came from."""

    provider: str
    licence: str
    author: str | None = None
    author_url: str | None = None
    source_url: str | None = None
    required: bool = Field(
        default=False,
        description="The licence or the vendor's API terms ask for this credit with the video.",
    )
    medium: Literal["photo", "video"] = "photo"

    def line(self) -> str:
        by = f" by {self.author}" if self.author else ""
        where = f": {self.source_url}" if self.source_url else ""
        kind = self.medium.capitalize()
        return f"{kind}{by} on {self.provider.capitalize()} ({self.licence}){where}"


def credited_description(description: str, credits: list[Credit]) -> str:
    """The description with a line per picture whose licence asks for a credit (once each)."""
    lines = list(dict.fromkeys(c.line() for c in credits if c.required))
    return "\n\n".join([description, "\n".join(lines)]) if lines else description


class SceneVisual(Frozen):
    image_key: str
    origin: Literal["generated", "library", "stock", "ai"]
    matched_file: str | None = None
    source_id: str | None = Field(default=None, description="The vendor's id of the picture.")
    credit: Credit | None = None
    clip_key: str | None = Field(
        default=None,
        description="A video clip shown under the image, which is then a transparent overlay.",
    )


class Visuals(Frozen):
    width: int
    height: int
    scenes: list[SceneVisual] = Field(description="One per narration segment, same order.")


class RenderedVideo(Frozen):
    video_key: str
    thumbnail_key: str
    duration: float
    width: int
    height: int
    fps: float
    size_bytes: int
    render_seconds: float
    template: str
    cached: bool = False
    credits: list[Credit] = Field(default_factory=list, description="Of its scene pictures.")
    local_render: bool = Field(
        default=True, description="Rendered by our own engine (captions from the cues)."
    )


class PublishReceipt(Frozen):
    """Where one channel published the video, and when."""

    channel: str
    url: str
    published_at: datetime
    platform_id: str | None = None
    """The platform's id of the video (YouTube video id, TikTok publish id/post id)."""


class Publication(Frozen):
    """The video on every channel of its route: one receipt per channel, in route order."""

    status: Literal["published"]
    receipts: list[PublishReceipt] = Field(min_length=1)

    @property
    def url(self) -> str:
        """The item's public URL: its first channel's."""
        return self.receipts[0].url
