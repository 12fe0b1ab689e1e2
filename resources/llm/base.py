from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg

from autoclip_core.schemas import (
    ContentAnalysis,
    Language,
    SafetyVerdict,
    Script,
    SourceItem,
    TopicSelection,
)
from resources.vendors.usage import VendorCalls


@dataclass(frozen=True)
class AnalysisQuestion:
    item: SourceItem


@dataclass(frozen=True)
class JudgeQuestion:
    content_id: str
    text: str
    language: Language


@dataclass(frozen=True)
class ScriptQuestion:
    item: SourceItem
    analysis: ContentAnalysis


Question = AnalysisQuestion | JudgeQuestion | ScriptQuestion


def question_content(question: Question) -> str:
    """The content item a question is asked for (its costs are charged to it)."""
    return question.content_id if isinstance(question, JudgeQuestion) else question.item.id


@dataclass
class Prepared:
    """What ``LLMResource.prepare`` answered ahead, by content item."""

    answered: dict[str, int] = field(default_factory=dict)
    """Questions answered (kept for ``analyze``, ``judge``, ``write_script``) per item."""
    missing: dict[str, list[str]] = field(default_factory=dict)
    """Why questions of an item were not answered: they are asked one by one when asked again."""
    calls: dict[str, VendorCalls] = field(default_factory=dict)
    """What the answers cost, with what was asked and answered, per item."""
    batches: dict[str, str] = field(default_factory=dict)
    """Vendor batch -> the state it ended in."""

    def miss(self, content_id: str, why: str) -> None:
        self.missing.setdefault(content_id, []).append(why)

    def calls_of(self, content_id: str) -> VendorCalls:
        return self.calls.setdefault(content_id, VendorCalls())


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

    def prepare(self, questions: Sequence[Question]) -> Prepared:
        """Answer many items' questions ahead of their runs, where the provider has a cheaper
        way to ask them together (a batch API), so that ``analyze``, ``judge`` and
        ``write_script`` find the answers without a call. What is not answered is asked one by
        one as before. A provider without such a way answers nothing here."""
        prepared = Prepared()
        for question in questions:
            prepared.miss(question_content(question), "the provider answers one by one")
        return prepared
