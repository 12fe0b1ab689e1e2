from __future__ import annotations

from abc import ABC, abstractmethod

import dagster as dg

from autoclip_core.schemas import ContentAnalysis, Script, SourceItem, TopicSelection


class LLMResource(dg.ConfigurableResource, ABC):
    """Language work: content analysis and script writing. Failures raise ``LLMError``."""

    @abstractmethod
    def analyze(self, item: SourceItem) -> ContentAnalysis: ...

    @abstractmethod
    def write_script(
        self, item: SourceItem, analysis: ContentAnalysis, selection: TopicSelection
    ) -> Script: ...
