from __future__ import annotations

from abc import ABC, abstractmethod

import dagster as dg

from autoclip_core.schemas import (
    ContentAnalysis,
    Language,
    SafetyVerdict,
    Script,
    SourceItem,
    TopicSelection,
)


class LLMResource(dg.ConfigurableResource, ABC):
    """Language work: content analysis, script writing and a safety judge. Failures raise
    ``LLMError``."""

    @abstractmethod
    def analyze(self, item: SourceItem) -> ContentAnalysis: ...

    @abstractmethod
    def write_script(
        self, item: SourceItem, analysis: ContentAnalysis, selection: TopicSelection
    ) -> Script: ...

    @abstractmethod
    def judge(self, text: str, language: Language) -> SafetyVerdict | None:
        """A model's safety verdict on ``text``, asked after the rules passed; None from a
        provider without a model (the rules' verdict stands alone)."""
